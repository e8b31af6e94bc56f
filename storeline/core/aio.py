"""Running a coroutine on the fastest event loop this platform has.

uvloop where it exists (not on Windows): the worker's own CPU per job is mostly event-loop
bookkeeping (tasks, futures, socket callbacks), which uvloop does in C. asyncpg is built for it
and pgqueuer's CLI runs on it too, so the queue bench compares the two on the same loop.
"""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine
from typing import Any, TypeVar

T = TypeVar("T")

try:
    import uvloop
except ImportError:  # Windows: no uvloop wheel
    uvloop = None  # type: ignore[assignment]


def run(coro: Coroutine[Any, Any, T]) -> T:
    """`asyncio.run(coro)`, on uvloop when it is installed."""
    if uvloop is None:
        return asyncio.run(coro)
    return uvloop.run(coro)
