"""Running one claimed job: open its credential, call the connector, write how it ended.

The connector runs in its own task so the engine can stop it (lease lost, cancel requested,
shutdown, timeout) and still write the outcome from outside it. Whatever happens, exactly one
fenced transition is attempted; if even that fails, the lease expires and the reaper takes over.
"""

from __future__ import annotations

import asyncio
import enum
import time
from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import asyncpg

from storeline.core.crypto import Sealed, unseal
from storeline.core.enums import CredentialStatus, Platform
from storeline.core.errors import ConfigError
from storeline.platforms import spec
from storeline.worker import observe
from storeline.worker.errors import JobCancelled, LeaseLost, TerminalError, TransientError
from storeline.worker.jobs import transitions
from storeline.worker.jobs.claim import Claim
from storeline.worker.jobs.completer import Completer
from storeline.worker.jobs.context import RunContext
from storeline.worker.jobs.retry import Action, Decision, decide
from storeline.worker.logs import log
from storeline.worker.registry import ConnectorFactory
from storeline.worker.settings import WorkerSettings

# Stats keys: what happened to the job, in the words of its status.
_OUTCOME = {
    Action.COMPLETE: "succeeded",
    Action.RETRY: "retried",
    Action.FAIL: "failed",
    Action.CANCEL: "cancelled",
    Action.RELEASE: "released",
    Action.NOTHING: "lease_lost",
}

# How long a stopped connector gets to unwind before the engine writes the outcome anyway.
_UNWIND_SECONDS = 5.0


class StopReason(enum.Enum):
    LEASE_LOST = "lease_lost"
    CANCELLED = "cancelled"
    SHUTDOWN = "shutdown"
    TIMEOUT = "timeout"
    CONNECTION_LOST = "connection_lost"  # a database backend the job held is gone
    STALLED = "stalled"  # no progress for stall_seconds
    FATAL = "fatal"  # the worker is dying (watchdog): write nothing, leases will expire


@dataclass
class Running:
    claim: Claim
    ctx: RunContext | None = None
    task: asyncio.Task[None] | None = None
    stop_reason: StopReason | None = None
    cancel_timer: asyncio.TimerHandle | None = field(default=None, repr=False)
    # Called once when the connector is done: its slot is free while the outcome is written
    # (the job stays IN_PROGRESS and leased until then, so its key cannot run twice).
    on_release: Callable[[], None] | None = field(default=None, repr=False)
    released: bool = False
    started: float = field(default_factory=time.monotonic)

    def release_slot(self) -> None:
        if not self.released:
            self.released = True
            if self.on_release is not None:
                self.on_release()

    def stop(self, reason: StopReason) -> None:
        """Cancel the connector's task; the first reason given is the one acted on."""
        if self.stop_reason is None:
            self.stop_reason = reason
        if self.task is not None and not self.task.done():
            self.task.cancel()

    def lease_lost(self) -> bool:
        return self.stop_reason is StopReason.LEASE_LOST or (
            self.ctx is not None and self.ctx.lease_lost
        )


class Executor:
    def __init__(
        self,
        *,
        pool: asyncpg.Pool,
        settings: WorkerSettings,
        connectors: Mapping[Platform, ConnectorFactory],
        completer: Completer,
        stats: Counter[str],
    ) -> None:
        self.pool = pool
        self.settings = settings
        self.connectors = connectors
        self.completer = completer
        self.stats = stats
        # Bound once: `log.info` through the lazy proxy builds a logger per call (about as much
        # time as the rest of a no-op job's bookkeeping); a bound one skips filtered levels.
        self.log = log.bind()

    async def execute(self, running: Running) -> Action:
        inner = asyncio.create_task(self._run_connector(running))
        running.task = inner
        done, _ = await asyncio.wait({inner}, timeout=self.settings.job_timeout_seconds)
        if not done:
            running.stop(StopReason.TIMEOUT)
        if not inner.done():
            await asyncio.wait({inner}, timeout=_UNWIND_SECONDS)
        running.release_slot()
        decision = self._decide(running, inner)
        await self._write(running, decision)
        return decision.action

    async def _run_connector(self, running: Running) -> None:
        claim, job = running.claim, running.claim.job
        secrets = self._secrets(claim) if spec(job.platform).is_source else {}
        ctx = RunContext(
            pool=self.pool,
            job=job,
            shop=claim.shop,
            cursor=claim.cursor,
            secrets=secrets,
            metadata=claim.metadata,
        )
        running.ctx = ctx
        with observe.job_scope(job.id, job.shop_id, job.platform):
            await self.connectors[job.platform]().run(ctx)

    def _secrets(self, claim: Claim) -> Mapping[str, Any]:
        """A source's decrypted credential (an export target has none: its settings hold it)."""
        job = claim.job
        if claim.key_id is None or claim.ciphertext is None:
            raise TerminalError(
                "the platform is not connected", code="credential_missing", task="credentials"
            )
        if claim.credential_status is CredentialStatus.NEEDS_REAUTH:
            raise TerminalError(
                "the credential needs re-authorisation", code="needs_reauth", task="credentials"
            )
        try:
            return unseal(
                Sealed(claim.key_id, claim.ciphertext), shop_id=job.shop_id, platform=job.platform
            )
        except ConfigError as exc:
            raise TerminalError(str(exc), code="credential_unreadable", task="credentials") from exc

    async def _follow_up(self, job_id: int, platform: Platform) -> None:
        """After a sync that changed data, the exports this deployment runs (settings.exports)
        are enqueued for its shop. Best effort: an export that cannot be enqueued is logged and
        never touches the sync, which has already succeeded."""
        exports = self.settings.export_platforms
        if not exports or platform in exports:
            return
        try:
            await transitions.enqueue_follow_ups(self.pool, job_id, exports)
        except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError) as exc:
            self.log.warning(
                "follow_up_not_enqueued", job_id=job_id, error=f"{type(exc).__name__}: {exc}"
            )

    def _decide(self, running: Running, inner: asyncio.Task[None]) -> Decision:
        job = running.claim.job
        reason = running.stop_reason
        exc: BaseException | None
        if reason is StopReason.FATAL:
            return Decision(Action.NOTHING)
        if not inner.done() or inner.cancelled():
            if reason is StopReason.SHUTDOWN or reason is None:
                return Decision(Action.RELEASE)
            exc = {
                StopReason.LEASE_LOST: LeaseLost("lease lost"),
                StopReason.CANCELLED: JobCancelled("cancel requested"),
                StopReason.TIMEOUT: TimeoutError(
                    f"job ran longer than {self.settings.job_timeout_seconds:g} s"
                ),
                StopReason.CONNECTION_LOST: TransientError(
                    "the job's database connection was lost", code="connection_lost"
                ),
                StopReason.STALLED: TransientError(
                    f"no progress for {self.settings.stall_seconds:g} s", code="job_stalled"
                ),
            }[reason]
        else:
            exc = inner.exception()
        if exc is not None and running.lease_lost():
            return Decision(Action.NOTHING)
        return decide(
            exc,
            attempts=job.attempts,
            max_attempts=job.max_attempts,
            task=f"{job.platform.lower()}.{job.job_type.lower()}",
            base=self.settings.backoff_base_seconds,
            cap=self.settings.backoff_cap_seconds,
        )

    async def _write(self, running: Running, decision: Decision) -> None:
        job = running.claim.job
        token = job.lease_token
        written = False
        try:
            match decision.action:
                case Action.COMPLETE:
                    watermark = running.ctx.watermark if running.ctx else None
                    written = await self.completer.complete(job.id, token, watermark)
                    if written:
                        await self._follow_up(job.id, job.platform)
                case Action.RETRY:
                    written = await transitions.requeue(
                        self.pool, job.id, token, delay=decision.delay, error=decision.error
                    )
                case Action.FAIL:
                    assert decision.error is not None
                    written = await transitions.fail(
                        self.pool,
                        job.id,
                        token,
                        decision.error,
                        reauth_reason=decision.reauth_reason,
                    )
                case Action.CANCEL:
                    assert decision.error is not None
                    written = await transitions.cancel(self.pool, job.id, token, decision.error)
                case Action.RELEASE:
                    written = await transitions.requeue(
                        self.pool,
                        job.id,
                        token,
                        restore_attempt=True,
                        reason="released: worker shutting down",
                    )
        except Exception as exc:
            # The lease will expire and the reaper requeues the job: at-least-once, never stuck.
            self.log.error(
                "job_outcome_not_written",
                job_id=job.id,
                action=decision.action.value,
                error=f"{type(exc).__name__}: {exc}",
            )
            self.stats["write_errors"] += 1
            return
        key = _OUTCOME[decision.action] if written else "lease_lost"
        self.stats[key] += 1
        observe.job_finished(job.platform, job.job_type, key, time.monotonic() - running.started)
        self.log.info(
            "job_finished",
            job_id=job.id,
            shop_id=job.shop_id,
            platform=job.platform,
            job_type=job.job_type,
            attempt=job.attempts,
            outcome=key,
            error_code=(decision.error or {}).get("code"),
        )
