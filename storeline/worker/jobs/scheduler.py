"""The freshness scheduler: keeps every connected shop within MAX_STALENESS_MINUTES.

Every replica runs it about once a minute (no leader): the enqueue is one idempotent statement
(`ON CONFLICT … DO NOTHING` against the one-QUEUED-per-key index), so racing replicas enqueue each
job once. A (shop, platform) is due when its last success is older than the staleness bound minus
a margin (expected job time + one tick); NEEDS_REAUTH credentials and agencies whose subscription
is not active/trialing are skipped, and a key whose last job just FAILED cools off for one
staleness period instead of retrying every tick.
"""

from __future__ import annotations

import asyncio
import random
import time
from collections import Counter

import asyncpg

from storeline.core.sql import queries
from storeline.worker import observe
from storeline.worker.logs import log
from storeline.worker.settings import WorkerSettings


async def schedule_once(pool: asyncpg.Pool, settings: WorkerSettings) -> list[asyncpg.Record]:
    """Enqueue what is due; returns the new jobs (id, shop_id, platform, job_type)."""
    started = time.perf_counter()
    rows: list[asyncpg.Record] = await pool.fetch(
        queries("app_dashboard")["schedule_stale"],
        settings.schedule_after_seconds,
        settings.max_staleness_minutes * 60,
    )
    observe.scheduler_tick(time.perf_counter() - started, len(rows))
    if rows:
        log.info("scheduled", jobs=len(rows))
    return rows


async def run_scheduler(
    pool: asyncpg.Pool, settings: WorkerSettings, *, stats: Counter[str]
) -> None:
    # A random first delay spreads replicas that start together (a deploy) across the tick.
    await asyncio.sleep(random.uniform(0, min(settings.scheduler_interval_seconds, 5.0)))
    while True:
        try:
            stats["scheduled"] += len(await schedule_once(pool, settings))
        except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError) as exc:
            log.warning("scheduler_failed", error=f"{type(exc).__name__}: {exc}")
        await asyncio.sleep(settings.scheduler_interval_seconds * random.uniform(0.9, 1.1))
