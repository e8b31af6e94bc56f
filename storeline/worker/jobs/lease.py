"""Leases: the heartbeat that keeps them, notices losing them, and the worker's watchdog.

The heartbeat runs on its own timer (lease/3), independent of job code (pgqueuer #430 re-picked
live jobs when its cadence drifted). Each renewal is fenced by the lease token: 0 rows means the
lease is lost and the job's task is cancelled before it can write anything. The same statement
reports `cancel_requested`. If the database has not answered for a whole lease the worker exits
non-zero instead of sitting alive but wedged (solid_queue PR #778); its leases expire and any
other worker reaps them.

The probe also asks Postgres about the backends each job holds (RunContext.connection): a job
whose backend is gone (terminated, a pooler or network cut; its driver can then wait forever) is
stopped as CONNECTION_LOST, and a job with no progress for `stall_seconds` (no commit, no source
answer, no statement running) as STALLED. Both are retried like any transient failure, within
one heartbeat of the cause: sooner than a killed worker's lease expiry plus a reap interval.
"""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from collections.abc import Callable, Mapping
from uuid import UUID

import asyncpg

from storeline.core.sql import queries
from storeline.worker.jobs.execute import Running, StopReason
from storeline.worker.logs import log
from storeline.worker.settings import WorkerSettings


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
        jobs = list(self.running.values())
        held = {id(r): set(r.ctx.backends) for r in jobs if r.ctx is not None}
        probe = asyncio.create_task(self._probe(set().union(*held.values())))
        await asyncio.gather(*(self._renew(r) for r in jobs))
        backends = await probe
        if backends is None:
            return False
        for running in jobs:
            self._watch(running, held.get(id(running), set()), backends)
        return True

    async def _probe(self, pids: set[int]) -> dict[int, bool] | None:
        """{pid: busy} of those of `pids` that still exist; None if the database did not answer."""
        try:
            async with asyncio.timeout(self.settings.heartbeat_interval):
                rows = await self.pool.fetch(queries("app_dashboard")["job_backends"], list(pids))
        except (TimeoutError, OSError, asyncpg.PostgresError, asyncpg.InterfaceError) as exc:
            log.warning("heartbeat_probe_failed", error=type(exc).__name__)
            self.stats["probe_failures"] += 1
            return None
        return {int(r["pid"]): bool(r["busy"]) for r in rows}

    def _watch(self, running: Running, held: set[int], backends: dict[int, bool]) -> None:
        """Stop a job whose connection died or that stopped making progress."""
        ctx = running.ctx
        if ctx is None or running.released or running.stop_reason is not None:
            return
        # Only pids held before the probe and still held after it: one released in between
        # may have been closed by the pool, which is no loss.
        lost = {pid for pid in held & ctx.backends if pid not in backends}
        lost = lost if self.settings.watch_backends else set()
        job = running.claim.job
        if lost:
            log.warning("job_connection_lost", job_id=job.id, pids=sorted(lost))
            self.stats["connections_lost"] += 1
            running.stop(StopReason.CONNECTION_LOST)
            return
        if any(backends.get(pid) for pid in held):
            ctx.touch()  # a statement of the job is running (a long transform is progress)
        idle = time.monotonic() - ctx.last_progress
        if idle > self.settings.stall_seconds:
            log.warning("job_stalled", job_id=job.id, shop_id=job.shop_id, seconds=round(idle, 1))
            self.stats["stalled"] += 1
            running.stop(StopReason.STALLED)

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
