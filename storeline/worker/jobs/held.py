"""A pool connection kept by one hot loop (claims, completions) across its statements.

`pool.fetch` acquires and releases a connection per call, and asyncpg resets a released
connection with a round trip of its own (`RESET ALL; UNLISTEN *; …`, a transaction each): as many
round trips and commits as the claim itself. Holding the connection saves them. Nothing else
changes: every statement is still its own transaction and no session state is set, so a
transaction pooler may hand each one to a different server connection (docs/job-engine.md
D4). After an error the connection goes back to the pool, which closes it if it is broken; the
next statement takes a fresh one.
"""

from __future__ import annotations

from typing import Any

import asyncpg
from asyncpg.pool import PoolConnectionProxy


class HeldConnection:
    def __init__(self, pool: asyncpg.Pool) -> None:
        self._pool = pool
        self._conn: PoolConnectionProxy | None = None

    async def fetch(self, query: str, *args: Any) -> list[asyncpg.Record]:
        if self._conn is None:
            self._conn = await self._pool.acquire()
        try:
            return await self._conn.fetch(query, *args)
        except BaseException:
            await self.release()
            raise

    async def release(self) -> None:
        conn, self._conn = self._conn, None
        if conn is not None:
            await self._pool.release(conn)
