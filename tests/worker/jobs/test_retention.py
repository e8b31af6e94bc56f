"""Staging retention (storeline/core/sql/app_dashboard/98_staging_retention.sql) as the reaper
runs it (storeline/worker/jobs/reaper.py `prune`): every platform's staging table, each with its
own retention; lines of running jobs and of each shop's newest successful jobs are kept."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import asyncpg

from storeline.core.enums import Platform
from storeline.platforms import SOURCES
from storeline.worker.jobs.reaper import prune
from tests.worker.jobs.conftest import add_shop, fast_settings

NOW = datetime.now(UTC)
TABLES = {
    Platform.SHOPIFY: "shopify_bulk_rows",
    Platform.META: "meta_insights_raw",
    Platform.GA4: "ga4_reports_raw",
    Platform.HUBSPOT: "hubspot_raw",
}


async def _job(
    conn: asyncpg.Connection, shop: str, platform: Platform, status: str, age_days: float
) -> int:
    done = None if status == "QUEUED" else NOW - timedelta(days=age_days)
    job_id: int = await conn.fetchval(
        "INSERT INTO app_dashboard.sync_jobs (shop_id, platform, job_type, status, completed_at)"
        " VALUES ($1, $2, 'INCREMENTAL', $3, $4) RETURNING id",
        shop, platform.value, status, done,
    )  # fmt: skip
    await conn.execute(
        f"INSERT INTO staging_ingest.{TABLES[platform]} (sync_job_id, shop_id, line_no, payload)"
        " SELECT $1, $2, n, '{}'::jsonb FROM generate_series(1, 2) AS n",
        job_id, shop,
    )  # fmt: skip
    return job_id


async def _staged(conn: asyncpg.Connection, platform: Platform) -> set[int]:
    rows = await conn.fetch(f"SELECT DISTINCT sync_job_id FROM staging_ingest.{TABLES[platform]}")
    return {r["sync_job_id"] for r in rows}


async def test_every_platform_keeps_its_own_retention(
    jobs_db: asyncpg.Connection, pool: asyncpg.Pool
) -> None:
    shop = await add_shop(jobs_db, "kept", SOURCES)
    await jobs_db.execute("DELETE FROM app_dashboard.sync_jobs")
    jobs: dict[Platform, dict[str, int]] = {}
    for platform in SOURCES:
        jobs[platform] = {
            # 4 old successes: only the newest 3 are kept past the retention
            **{f"old{i}": await _job(jobs_db, shop, platform, "SUCCEEDED", 60) for i in range(4)},
            "failed_20d": await _job(jobs_db, shop, platform, "FAILED", 20),
            "failed_2d": await _job(jobs_db, shop, platform, "FAILED", 2),
            "queued": await _job(jobs_db, shop, platform, "QUEUED", 0),
            "new": await _job(jobs_db, shop, platform, "SUCCEEDED", 0.1),
        }
    assert await prune(pool, fast_settings()) > 0
    for platform, ids in jobs.items():
        kept = await _staged(jobs_db, platform)
        # "new" and the two newest old ones are the shop's 3 newest successes.
        expected = {ids["new"], ids["old2"], ids["old3"], ids["failed_2d"], ids["queued"]}
        if platform is Platform.META:  # 35 days: a day's restatements stay readable
            expected.add(ids["failed_20d"])
        assert kept == expected, platform
