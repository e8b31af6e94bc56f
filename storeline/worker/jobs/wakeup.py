"""LISTEN/NOTIFY as a hint: wake the claim loop when a job becomes runnable.

On a dedicated connection (LISTEN needs a session, so behind Supabase's transaction pooler point
`STORELINE_WORKER_LISTEN_URL` at the direct or session URL, or turn `listen` off). Listeners die
silently in the anchors (graphile-worker #541, pg-boss #850), so this one health-checks its
connection, reconnects with backoff, and wakes the loop on every (re)connect in case a
notification was missed. Correctness never depends on it: the claim loop also polls.
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import Callable
from typing import Any

import asyncpg

from storeline.core import db
from storeline.core.sql import queries
from storeline.worker.logs import log

CHANNEL = "storeline_sync_jobs"
_HEALTH_SECONDS = 30.0


class Wakeup:
    def __init__(self, dsn: str, on_wake: Callable[[], None]) -> None:
        self.dsn = dsn
        self.on_wake = on_wake
        self.notifications = 0

    def _notified(self, *_: Any) -> None:
        self.notifications += 1
        self.on_wake()

    async def run(self) -> None:
        delay = 1.0
        while True:
            conn: asyncpg.Connection | None = None
            try:
                conn = await db.connect(self.dsn)
                lost = asyncio.Event()
                conn.add_termination_listener(lambda _c, lost=lost: lost.set())
                await conn.add_listener(CHANNEL, self._notified)
                delay = 1.0
                self.on_wake()
                while not lost.is_set():
                    try:
                        await asyncio.wait_for(lost.wait(), _HEALTH_SECONDS)
                    except TimeoutError:
                        await conn.fetchval(queries("app_dashboard")["probe"], timeout=5)
            except (OSError, TimeoutError, asyncpg.PostgresError, asyncpg.InterfaceError) as exc:
                log.warning("listen_connection_lost", error=type(exc).__name__)
            finally:
                if conn is not None and not conn.is_closed():
                    conn.terminate()
            await asyncio.sleep(delay * random.uniform(0.5, 1.0))
            delay = min(delay * 2, 30.0)
