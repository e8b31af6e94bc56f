"""Pools get the kernel's short statement timeout unless a caller with long statements (the
worker's connector pool) asks for its own."""

from __future__ import annotations

import asyncio

import pytest

from storeline.core import db


async def test_command_timeout_is_per_pool(pg_admin_dsn: str) -> None:
    short = await db.create_pool(pg_admin_dsn, min_size=1, max_size=1, command_timeout=0.2)
    long = await db.create_pool(pg_admin_dsn, min_size=1, max_size=1, command_timeout=30)
    try:
        with pytest.raises(asyncio.TimeoutError):
            await short.execute("SELECT pg_sleep(1)")
        await long.execute("SELECT pg_sleep(0.5)")
    finally:
        await short.close()
        await long.close()
