"""One worker process's engine: N job slots fed by the claim loop, with the heartbeat, reaper,
scheduler and NOTIFY listener running beside it.

Claim as many jobs as there are free slots (one statement); wait for a NOTIFY, a freed slot or
the poll interval; repeat. A slot is a running connector: it frees when the connector returns,
while its outcome is still being written (the completer batches those in the background). The
job stays IN_PROGRESS and leased until that fenced write commits, so its (shop, platform) cannot
be claimed again meanwhile; at most `_FINISHING_PER_SLOT` x slots leased jobs are held at once.

On `stop()` (SIGTERM): stop claiming, let running jobs finish within the grace period, then
release the rest to QUEUED with their attempt restored. On a watchdog trip: stop everything at
once, write nothing, and exit non-zero so the orchestrator restarts us.
"""

from __future__ import annotations

import asyncio
import contextlib
import secrets
import time
from collections import Counter
from collections.abc import Mapping
from uuid import UUID

import asyncpg

from storeline.core.enums import Platform
from storeline.worker import observe
from storeline.worker.jobs.claim import Claim, claim
from storeline.worker.jobs.completer import Completer
from storeline.worker.jobs.execute import Executor, Running, StopReason
from storeline.worker.jobs.held import HeldConnection
from storeline.worker.jobs.lease import Heartbeat
from storeline.worker.jobs.reaper import run_reaper
from storeline.worker.jobs.scheduler import run_scheduler
from storeline.worker.jobs.wakeup import Wakeup
from storeline.worker.logs import log
from storeline.worker.registry import ConnectorFactory
from storeline.worker.settings import WorkerSettings

EXIT_WATCHDOG = 3
_UNWIND_SECONDS = 15.0
_FINISHING_PER_SLOT = 8


class Worker:
    def __init__(
        self,
        *,
        pool: asyncpg.Pool,
        settings: WorkerSettings,
        connectors: Mapping[Platform, ConnectorFactory],
        engine_pool: asyncpg.Pool | None = None,
        listen_dsn: str | None = None,
        worker_id: str | None = None,
    ) -> None:
        """`pool` is what connectors write through; `engine_pool` (default: the same) carries
        claims, heartbeats and completions, so a connector hogging connections cannot starve
        the heartbeat. A random `worker_id` per process start, never the host name
        (docs/job-engine.md D1)."""
        self.pool = pool
        self.engine_pool = engine_pool or pool
        self.settings = settings
        self.connectors = dict(connectors)
        self.listen_dsn = listen_dsn
        self.worker_id = worker_id or f"w-{secrets.token_hex(6)}"
        self.stats: Counter[str] = Counter()
        # Every job this worker holds a lease on (the heartbeat renews them all) ...
        self.running: dict[UUID, Running] = {}
        # ... of which this many still run their connector: what the slots count.
        self.busy = 0
        self.exit_code = 0
        self._tasks: set[asyncio.Task[None]] = set()
        self._wake = asyncio.Event()
        self._stopping = asyncio.Event()
        self._no_grace = asyncio.Event()
        self._fatal = False

    def stop(self, *, immediate: bool = False) -> None:
        """Stop claiming and drain; a second call (or `immediate`) skips the grace period."""
        if self._stopping.is_set() or immediate:
            self._no_grace.set()
        self._stopping.set()
        self._wake.set()

    def wake(self) -> None:
        self._wake.set()

    def _die(self) -> None:
        self._fatal = True
        self.exit_code = EXIT_WATCHDOG
        self.stop(immediate=True)

    async def run(self) -> int:
        completer = Completer(self.engine_pool, synchronous_commit=self.settings.synchronous_commit)
        completer.start()
        executor = Executor(
            pool=self.pool,
            settings=self.settings,
            connectors=self.connectors,
            completer=completer,
            stats=self.stats,
        )
        heartbeat = Heartbeat(
            pool=self.engine_pool,
            settings=self.settings,
            running=self.running,
            on_fatal=self._die,
            stats=self.stats,
        )
        background = [
            asyncio.create_task(heartbeat.run(), name="heartbeat"),
            asyncio.create_task(
                run_reaper(
                    self.engine_pool, self.settings, worker_id=self.worker_id, stats=self.stats
                ),
                name="reaper",
            ),
        ]
        if self.settings.scheduler:
            background.append(
                asyncio.create_task(
                    run_scheduler(self.engine_pool, self.settings, stats=self.stats),
                    name="scheduler",
                )
            )
        if self.settings.metrics_port is not None and self.settings.metrics_sample_seconds > 0:
            background.append(
                asyncio.create_task(
                    observe.sample(self.engine_pool, self.settings.metrics_sample_seconds),
                    name="metrics",
                )
            )
        if self.settings.listen and self.listen_dsn:
            background.append(
                asyncio.create_task(Wakeup(self.listen_dsn, self.wake).run(), name="wakeup")
            )
        log.info(
            "worker_started",
            worker_id=self.worker_id,
            slots=self.settings.slots,
            platforms=sorted(self.connectors),
        )
        claims = HeldConnection(self.engine_pool)
        try:
            await self._claim_loop(executor, claims)
            await self._drain()
        finally:
            await claims.release()
            for task in background:
                task.cancel()
            await asyncio.gather(*background, return_exceptions=True)
            await completer.close()
        log.info("worker_stopped", worker_id=self.worker_id, exit_code=self.exit_code)
        return self.exit_code

    async def _claim_loop(self, executor: Executor, db: HeldConnection) -> None:
        slots = self.settings.slots
        while not self._stopping.is_set():
            self._wake.clear()
            free = min(slots - self.busy, slots * _FINISHING_PER_SLOT - len(self.running))
            timeout: float | None = None
            if free > 0:
                claims = await self._claim(free, db)
                for c in claims:
                    self._start(executor, c)
                if len(claims) == free:
                    continue  # maybe more is runnable; the next pass waits if slots are full
                timeout = self.settings.poll_interval_seconds
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), timeout)

    async def _claim(self, free: int, db: HeldConnection) -> list[Claim]:
        try:
            claims = await claim(
                db,
                worker_id=self.worker_id,
                limit=free,
                lease_seconds=self.settings.lease_seconds,
                platforms=self.connectors.keys(),
                synchronous_commit=self.settings.synchronous_commit,
            )
        except (
            OSError,
            TimeoutError,
            asyncpg.PostgresError,
            asyncpg.InterfaceError,
            asyncpg.InternalClientError,  # e.g. the server went away mid-statement
        ) as exc:
            log.warning("claim_failed", error=f"{type(exc).__name__}: {exc}")
            self.stats["claim_errors"] += 1
            return []
        self.stats["claims"] += 1
        self.stats["claimed"] += len(claims)
        if not claims:
            self.stats["empty_claims"] += 1
        return claims

    def _start(self, executor: Executor, c: Claim) -> None:
        running = Running(claim=c, on_release=self._released)
        self.running[c.job.lease_token] = running
        self.busy += 1
        task = asyncio.create_task(self._execute(executor, running), name=f"job-{c.job.id}")
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    def _released(self) -> None:
        self.busy -= 1
        self._wake.set()

    async def _execute(self, executor: Executor, running: Running) -> None:
        try:
            await executor.execute(running)
        except Exception:
            log.exception("job_engine_error", job_id=running.claim.job.id)
        finally:
            if running.cancel_timer is not None:
                running.cancel_timer.cancel()
            running.release_slot()
            self.running.pop(running.claim.job.lease_token, None)
            self._wake.set()

    async def _drain(self) -> None:
        if self._fatal:
            for running in list(self.running.values()):
                running.stop(StopReason.FATAL)
        elif self._tasks:
            log.info("draining", jobs=len(self._tasks), grace_seconds=self.settings.grace_seconds)
            deadline = time.monotonic() + self.settings.grace_seconds
            no_grace = asyncio.create_task(self._no_grace.wait())
            while self._tasks and not self._no_grace.is_set():
                left = deadline - time.monotonic()
                if left <= 0:
                    break
                await asyncio.wait(
                    {*self._tasks, no_grace}, timeout=left, return_when=asyncio.FIRST_COMPLETED
                )
            no_grace.cancel()
            for running in list(self.running.values()):
                running.stop(StopReason.SHUTDOWN)
        if self._tasks:
            await asyncio.wait(set(self._tasks), timeout=_UNWIND_SECONDS)
