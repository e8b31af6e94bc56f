"""The reaper: any worker, every ~20 s with jitter, returns expired leases to the queue.

No leader: every replica runs it and the statements are safe to race. The expiry predicate sits
in each UPDATE (River #1302 is what happens when it sits in an earlier SELECT), so a heartbeat
that renewed the lease in between wins. Lease expiry counts as an attempt: a job that keeps
killing its worker ends FAILED with `lease_expired` instead of looping forever. Together with the
lease this is the invariant: no job stays IN_PROGRESS past lease + reap interval.
"""

from __future__ import annotations

import asyncio
import random
import time
from collections import Counter
from dataclasses import dataclass

import asyncpg

from storeline.core.sql import queries
from storeline.worker.jobs import transitions
from storeline.worker.jobs.retry import backoff, error_body
from storeline.worker.logs import log
from storeline.worker.settings import WorkerSettings

_BATCH = 100
_PRUNE_EVERY_SECONDS = 3600.0


@dataclass(frozen=True)
class Reaped:
    requeued: int = 0
    failed: int = 0
    cancelled: int = 0


async def reap_once(pool: asyncpg.Pool, settings: WorkerSettings, *, worker_id: str) -> Reaped:
    q = queries("app_dashboard")
    cancelled = len(await pool.fetch(q["cancel_queued_requested"]))
    requeued = failed = 0
    for row in await pool.fetch(q["expired_leases"], _BATCH):
        error = error_body(
            "lease_expired",
            f"worker {row['worker_id']} stopped renewing its lease",
            task="lease",
            retryable=True,
        )
        reason = f"lease expired; reaped by {worker_id}"
        if row["attempts"] >= row["max_attempts"]:
            failed += await transitions.fail_expired(
                pool, row["id"], row["lease_token"], error, reason=reason
            )
        else:
            requeued += await transitions.requeue(
                pool,
                row["id"],
                row["lease_token"],
                delay=backoff(
                    row["attempts"],
                    base=settings.backoff_base_seconds,
                    cap=settings.backoff_cap_seconds,
                ),
                error=error,
                only_if_expired=True,
                reason=reason,
            )
    if requeued or failed or cancelled:
        log.info("reaped", requeued=requeued, failed=failed, cancelled=cancelled)
    return Reaped(requeued=requeued, failed=failed, cancelled=cancelled)


async def prune(pool: asyncpg.Pool, settings: WorkerSettings) -> int:
    """Retention: old job events, and staging lines past their platform's retention; returns
    the staging lines deleted."""
    q = queries("app_dashboard")
    await pool.execute(q["prune_job_events"], settings.event_retention_days)
    lines = int(await pool.fetchval(q["prune_staging"]) or 0)
    if lines:
        log.info("staging_pruned", lines=lines)
    return lines


async def run_reaper(
    pool: asyncpg.Pool, settings: WorkerSettings, *, worker_id: str, stats: Counter[str]
) -> None:
    """Forever: reap, sleep the interval ±20 % so replicas do not tick in lockstep."""
    last_prune = time.monotonic()
    while True:
        try:
            reaped = await reap_once(pool, settings, worker_id=worker_id)
            stats["reaped_requeued"] += reaped.requeued
            stats["reaped_failed"] += reaped.failed
            stats["cancelled_queued"] += reaped.cancelled
            if time.monotonic() - last_prune > _PRUNE_EVERY_SECONDS:
                await prune(pool, settings)
                last_prune = time.monotonic()
        except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError) as exc:
            log.warning("reaper_failed", error=f"{type(exc).__name__}: {exc}")
        await asyncio.sleep(settings.reap_interval_seconds * random.uniform(0.8, 1.2))
