"""The concrete `JobContext` a connector receives: every write it offers is fenced by the lease.

`fenced()` opens a transaction that checks id + lease_token + status first (fail fast, no lock,
so the heartbeat keeps renewing the lease during a long transform) and again just before COMMIT
with the row locked (FOR NO KEY UPDATE): a worker whose lease was lost in between gets `LeaseLost`
and every write of the transaction rolls back; between that last check and the commit nothing can
take the job away.

The context also tells the heartbeat whether the job is alive (see storeline/worker/jobs/lease.py):
every connection it hands out is registered by backend pid while held, and `touch()` (each fenced
commit, each source response through the kit) stamps the last progress. A backend that vanished
(terminated, pooler restart) or no progress for `stall_seconds` stops the job for a retry instead of
letting it sit under a live lease.
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from typing import Any, cast

import asyncpg

from storeline.core.sql import queries
from storeline.worker import observe
from storeline.worker.errors import JobCancelled, LeaseLost
from storeline.worker.jobs.contract import ClaimedJob, ShopInfo


class RunContext:
    def __init__(
        self,
        *,
        pool: asyncpg.Pool,
        job: ClaimedJob,
        shop: ShopInfo,
        cursor: Mapping[str, Any],
        secrets: Mapping[str, Any],
        metadata: Mapping[str, Any],
    ) -> None:
        self.job = job
        self.shop = shop
        self.pool = pool
        self.cursor = cursor
        self.secrets = secrets
        self.metadata = metadata
        self.watermark: Mapping[str, Any] | None = None
        self.cancel_requested = False
        self.lease_lost = False
        self.backends: set[int] = set()  # pids of the connections the job holds right now
        self.last_progress = time.monotonic()

    def touch(self) -> None:
        """Record progress: the stall watchdog measures time since the last call."""
        self.last_progress = time.monotonic()

    @asynccontextmanager
    async def connection(self) -> AsyncIterator[asyncpg.Connection]:
        """A pooled connection the heartbeat watches: if its backend dies, the job is stopped."""
        async with self.pool.acquire() as conn:
            pid = conn.get_server_pid()
            self.backends.add(pid)
            try:
                # A pooled connection proxies asyncpg.Connection; connectors only see that API.
                yield cast(asyncpg.Connection, conn)
            finally:
                self.backends.discard(pid)

    def _lost(self) -> LeaseLost:
        self.lease_lost = True
        return LeaseLost(f"job {self.job.id}: lease lost")

    @asynccontextmanager
    async def fenced(self) -> AsyncIterator[asyncpg.Connection]:
        self.check_cancelled()
        q = queries("app_dashboard")
        async with self.connection() as conn:
            async with conn.transaction():
                # Fail fast without a lock: a long transform must not block the heartbeat,
                # which updates the same row while this transaction runs.
                await self._check(conn, q["check_job"])
                yield conn
                # The fence proper: lock the row and re-check just before COMMIT, so a lease
                # lost (reaped, re-claimed) during the transform rolls every write back, and
                # nothing can take the job between this check and the commit.
                await self._check(conn, q["lock_job"])
            self.touch()

    async def _check(self, conn: asyncpg.Connection, query: str) -> None:
        row = await conn.fetchrow(query, self.job.id, self.job.lease_token)
        if row is None:
            raise self._lost()
        if row["cancel_requested"]:
            self.cancel_requested = True
            raise JobCancelled(f"job {self.job.id}: cancellation requested")

    async def _fenced_update(self, name: str, value: Any) -> None:
        done = await self.pool.fetchval(
            queries("app_dashboard")[name], self.job.id, self.job.lease_token, value
        )
        if done is None:
            raise self._lost()
        self.touch()

    async def save_progress(self, **progress: Any) -> None:
        await self._fenced_update("save_progress", progress)

    async def add_records(self, count: int) -> None:
        await self._fenced_update("add_records", count)
        observe.rows_synced(self.job.platform, count)

    def set_cursor(self, watermark: Mapping[str, Any]) -> None:
        self.watermark = dict(watermark)

    def check_cancelled(self) -> None:
        if self.lease_lost:
            raise LeaseLost(f"job {self.job.id}: lease lost")
        if self.cancel_requested:
            raise JobCancelled(f"job {self.job.id}: cancellation requested")
