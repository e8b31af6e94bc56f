"""Leases: the heartbeat that keeps them, notices losing them, and the worker's watchdog.

The heartbeat runs on its own timer (lease/3), independent of job code (pgqueuer #430 re-picked
live jobs when its cadence drifted). Each renewal is fenced by the lease token: 0 rows means the
lease is lost and the job's task is cancelled before it can write anything. The same statement
reports `cancel_requested`. If the database has not answered for a whole lease the worker exits
non-zero instead of sitting alive but wedged (solid_queue PR #778); its leases expire and any
other worker reaps them.
"""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from collections.abc import Callable, Mapping
from uuid import UUID

import asyncpg

from storeline.sql import queries
from worker.jobs.execute import Running, StopReason
from worker.logs import log
from worker.settings import WorkerSettings


class Heartbeat:
    def __init__(
        self,
        *,
        pool: asyncpg.Pool,
        settings: WorkerSettings,
        running: Mapping[UUID, Running],
        on_fatal: Callable[[], None],
        stats: Counter[str],
    ) -> None:
        self.pool = pool
        self.settings = settings
        self.running = running
        self.on_fatal = on_fatal
        self.stats = stats

    async def run(self) -> None:
        interval = self.settings.heartbeat_interval
        last_ok = time.monotonic()
        while True:
            await asyncio.sleep(interval)
            if await self.beat():
                last_ok = time.monotonic()
            elif time.monotonic() - last_ok > self.settings.lease_seconds:
                log.error("watchdog_no_database", seconds=round(time.monotonic() - last_ok, 1))
                self.on_fatal()
                return

    async def beat(self) -> bool:
        """Renew every running job's lease; True if the database answered the liveness probe."""
        probe = asyncio.create_task(self._probe())
        await asyncio.gather(*(self._renew(r) for r in list(self.running.values())))
        return await probe

    async def _probe(self) -> bool:
        try:
            async with asyncio.timeout(self.settings.heartbeat_interval):
                await self.pool.fetchval(queries("app_dashboard")["probe"])
        except (TimeoutError, OSError, asyncpg.PostgresError, asyncpg.InterfaceError) as exc:
            log.warning("heartbeat_probe_failed", error=type(exc).__name__)
            self.stats["probe_failures"] += 1
            return False
        return True

    async def _renew(self, running: Running) -> None:
        job = running.claim.job
        try:
            # A fenced transaction of the job itself may hold the row: waiting is fine, the
            # next beat tries again; the lease must outlast the connector's longest transaction.
            async with asyncio.timeout(self.settings.heartbeat_interval):
                row = await self.pool.fetchrow(
                    queries("app_dashboard")["heartbeat"],
                    job.id,
                    job.lease_token,
                    self.settings.lease_seconds,
                )
        except (TimeoutError, OSError, asyncpg.PostgresError, asyncpg.InterfaceError) as exc:
            log.warning("heartbeat_failed", job_id=job.id, error=type(exc).__name__)
            self.stats["heartbeat_failures"] += 1
            return
        self.stats["heartbeats"] += 1
        if row is None:
            if running.released:
                return  # the connector is done and its outcome was just written
            log.warning("lease_lost", job_id=job.id, shop_id=job.shop_id, platform=job.platform)
            running.stop(StopReason.LEASE_LOST)
        elif row["cancel_requested"]:
            self._cancel(running)

    def _cancel(self, running: Running) -> None:
        """Cooperative first (`check_cancelled`, `fenced()` raise), forced after a grace."""
        if running.ctx is None:
            running.stop(StopReason.CANCELLED)
            return
        running.ctx.cancel_requested = True
        if running.cancel_timer is None:
            running.cancel_timer = asyncio.get_running_loop().call_later(
                self.settings.cancel_grace_seconds, running.stop, StopReason.CANCELLED
            )
