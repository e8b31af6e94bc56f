"""The freshness scheduler: what it enqueues, what it skips, idempotence across replicas, and a
running worker keeping every shop within a (short) staleness bound."""

from __future__ import annotations

import asyncio
import uuid

import asyncpg

from storeline.core.enums import Platform
from storeline.platforms import SOURCES
from storeline.worker.jobs.scheduler import schedule_once
from tests.worker.jobs.conftest import add_shop, fast_settings, running_worker

# Enqueue once the last success is older than 60 - 20 = 40 s.
SETTINGS = fast_settings(max_staleness_minutes=1, staleness_margin_seconds=20)


async def succeeded(conn: asyncpg.Connection, shop: str, platform: str, seconds_ago: int) -> None:
    """As if a job had succeeded `seconds_ago`: cursor stamped, its queued job done."""
    await conn.execute(
        "UPDATE app_dashboard.sync_jobs SET status = 'CANCELLED' "
        "WHERE shop_id = $1 AND platform = $2 AND status = 'QUEUED'",
        shop,
        platform,
    )
    await conn.execute(
        "INSERT INTO app_dashboard.sync_cursors (shop_id, platform, last_success_at) "
        "VALUES ($1, $2, now() - make_interval(secs => $3))",
        shop,
        platform,
        seconds_ago,
    )


async def test_enqueues_due_keys_and_skips_the_rest(
    jobs_db: asyncpg.Connection, pool: asyncpg.Pool
) -> None:
    stale = await add_shop(jobs_db, "stale", (Platform.SHOPIFY, Platform.META))
    await succeeded(jobs_db, stale, "SHOPIFY", 50)  # due
    await succeeded(jobs_db, stale, "META", 30)  # fresh enough
    reauth = await add_shop(jobs_db, "reauth")
    await succeeded(jobs_db, reauth, "SHOPIFY", 500)
    await jobs_db.execute(
        "UPDATE app_dashboard.shop_credentials SET status = 'NEEDS_REAUTH' WHERE shop_id = $1",
        reauth,
    )
    lapsed_agency = uuid.uuid4()
    await jobs_db.execute(
        "INSERT INTO app_dashboard.agencies (id, name, subscription_status) "
        "VALUES ($1, 'Lapsed', 'canceled')",
        lapsed_agency,
    )
    lapsed = await add_shop(jobs_db, "lapsed", agency=lapsed_agency)
    await succeeded(jobs_db, lapsed, "SHOPIFY", 500)
    await add_shop(jobs_db, "never")  # skipped: its HISTORICAL_INIT is still queued
    failed = await add_shop(jobs_db, "failed")  # skipped: cooling off after FAILED
    await jobs_db.execute(
        "UPDATE app_dashboard.sync_jobs SET status = 'FAILED', completed_at = now() "
        "WHERE shop_id = $1",
        failed,
    )
    lost = await add_shop(jobs_db, "lost")  # never succeeded, its job rows are gone
    await jobs_db.execute("DELETE FROM app_dashboard.sync_jobs WHERE shop_id = $1", lost)

    new = await schedule_once(pool, SETTINGS)
    assert sorted((r["shop_id"], r["platform"], r["job_type"]) for r in new) == [
        (lost, "SHOPIFY", "HISTORICAL_INIT"),
        (stale, "SHOPIFY", "INCREMENTAL"),
    ]
    assert await schedule_once(pool, SETTINGS) == []  # idempotent


async def test_replicas_racing_enqueue_each_key_once(
    jobs_db: asyncpg.Connection, pool: asyncpg.Pool
) -> None:
    shops = [await add_shop(jobs_db, f"s{i}", SOURCES) for i in range(5)]
    for shop in shops:
        for platform in SOURCES:
            await succeeded(jobs_db, shop, platform, 3600)
    results = await asyncio.gather(*(schedule_once(pool, SETTINGS) for _ in range(6)))
    assert sum(len(r) for r in results) == 20
    queued = await jobs_db.fetchval(
        "SELECT count(*) FROM app_dashboard.sync_jobs WHERE status = 'QUEUED'"
    )
    assert queued == 20


async def test_running_worker_keeps_every_shop_within_the_staleness_bound(
    jobs_db: asyncpg.Connection, db_dsn: str
) -> None:
    """Bound 6 s (0.1 min), margin 3 s, scheduler every 0.5 s; 3 shops x 4 platforms on 4
    slots, each sync taking ~0.1 s. After the first round, no key may ever be older than 6 s."""
    for i in range(3):
        await add_shop(jobs_db, f"fresh{i}", SOURCES, rows=2, chunk_seconds=0.05)
    settings = fast_settings(
        scheduler=True,
        scheduler_interval_seconds=0.5,
        max_staleness_minutes=0.1,
        staleness_margin_seconds=3,
    )
    async with running_worker(db_dsn, settings) as worker:
        worst = 0.0
        samples = 0
        for _ in range(60):  # 12 s: two full staleness periods after the first round
            await asyncio.sleep(0.2)
            row = await jobs_db.fetchrow(
                "SELECT count(*) AS n, max(extract(epoch FROM now() - last_success_at)) AS age "
                "FROM app_dashboard.sync_cursors"
            )
            if row["n"] < 12:
                continue  # still on the initial HISTORICAL_INIT round
            samples += 1
            worst = max(worst, float(row["age"]))
    assert samples > 40
    assert worst < 6.0
    assert worker.stats["scheduled"] >= 12  # it really re-synced everything, more than once
    incremental = await jobs_db.fetchval(
        "SELECT count(*) FROM app_dashboard.sync_jobs "
        "WHERE job_type = 'INCREMENTAL' AND status = 'SUCCEEDED'"
    )
    assert incremental >= 24
