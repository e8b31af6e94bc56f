"""The Meta connector over real HTTP against the sandbox, run by the real engine: a backfill
equals the oracle on every day; an incremental replaces the re-pulled days without duplicates;
Meta's timeouts fall back to async report runs; throttling waits or retries; a dead token marks
the credential NEEDS_REAUTH."""

from __future__ import annotations

from datetime import date, timedelta

import asyncpg
import pytest

from sandbox.faults import FaultKind
from sandbox.meta import oracle
from sandbox.server import RunningSandbox
from storeline.core.enums import JobType, Platform
from storeline.core.sql import queries
from tests.fixtures.sandbox import FreshSandbox
from tests.platforms.meta.support import connect_meta, daily_mismatches, meta_engine
from tests.platforms.shopify.connector_support import wait_for

SHOP = "kiri-surf.myshopify.com"


@pytest.fixture
def running(fresh_sandbox: FreshSandbox) -> RunningSandbox:
    return fresh_sandbox(platforms=["meta"])


async def _span(pool: asyncpg.Pool, job_id: int) -> tuple[date, date]:
    progress = await pool.fetchval(
        "SELECT progress FROM app_dashboard.sync_jobs WHERE id = $1", job_id
    )
    (plan,) = [v for k, v in progress.items() if k.startswith("meta_act_")]
    return date.fromisoformat(plan["since"]), date.fromisoformat(plan["until"])


async def test_backfill_equals_the_oracle_on_every_day(
    db_dsn: str, pool: asyncpg.Pool, running: RunningSandbox
) -> None:
    shop = running.world.shops[SHOP]
    async with pool.acquire() as conn:
        job_id = await connect_meta(conn, shop)
    async with meta_engine(db_dsn, running):
        (job,) = await wait_for(pool, [job_id], ("SUCCEEDED", "FAILED"), within=90)
    assert job["status"] == "SUCCEEDED", job["error"]
    first, last = await _span(pool, job_id)
    assert (last - first).days > 365, "the backfill reads the account's whole history"
    async with pool.acquire() as conn:
        assert await daily_mismatches(conn, running, shop, first, last) == []
        ads = await conn.fetchrow(
            "SELECT count(*) AS n, count(*) FILTER (WHERE attribution_setting IS NULL) AS bare, "
            "count(DISTINCT currency) AS currencies "
            "FROM core_warehouse.fact_marketing_campaign_daily"
        )
    assert ads["n"] > 0
    assert ads["bare"] == 0
    assert ads["currencies"] == 1
    # Reach is de-duplicated: stored at the grain fetched (ad x day), equal to Meta's there, and
    # no reporting relation sums it (issue 22 item 3).
    month = last - timedelta(days=29)
    stored = {
        f"{r['ad_id']}|{r['day'].isoformat()}": r["reach"]
        for r in await pool.fetch(
            "SELECT ad_id, day, reach FROM core_warehouse.fact_marketing_campaign_daily "
            "WHERE day >= $1",
            month,
        )
        if r["reach"]
    }
    expected = {
        f"{e['id']}|{e['date_start']}": e["reach"]
        for e in oracle.reach(running.world, shop, month, last, level="ad", increment=1)
        if e["reach"]
    }
    assert stored == expected
    summed = await pool.fetchval(
        "SELECT count(*) FROM information_schema.columns "
        "WHERE table_schema IN ('reporting', 'core_warehouse') AND column_name = 'reach' "
        "AND table_name <> 'fact_marketing_campaign_daily'"
    )
    assert summed == 0
    account = await pool.fetchrow("SELECT * FROM reporting.ad_accounts")
    assert account["account_id"] == shop.meta_ad_account_id
    assert account["currency_matches_shop"]
    assert account["timezone"] == shop.timezone
    assert account["timezone_matches_shop"]
    await pool.execute("UPDATE app_dashboard.shops SET timezone = 'UTC', currency = 'EUR'")
    account = await pool.fetchrow("SELECT * FROM reporting.ad_accounts")
    assert not account["timezone_matches_shop"]
    assert not account["currency_matches_shop"]
    assert (
        await pool.fetchval("SELECT count(*) FROM reporting.marketing_daily WHERE in_shop_currency")
        == 0
    )
    assert job["records_synced"] == await pool.fetchval(
        "SELECT count(*) FROM staging_ingest.meta_insights_raw WHERE sync_job_id = $1", job_id
    )


async def test_an_incremental_replaces_the_attribution_window(
    db_dsn: str, pool: asyncpg.Pool, running: RunningSandbox
) -> None:
    shop = running.world.shops[SHOP]
    async with pool.acquire() as conn:
        first_job = await connect_meta(conn, shop)
    async with meta_engine(db_dsn, running, attribution_window_days=10):
        await wait_for(pool, [first_job], ("SUCCEEDED",), within=90)
        first, read_until = await _span(pool, first_job)
        synced_at = await pool.fetchval("SELECT now()")
        running.world.advance(timedelta(days=2, hours=5))  # late conversions, new days
        job_id = await pool.fetchval(
            queries("app_dashboard")["enqueue_job"], shop.shop_id, Platform.META.value,
            JobType.INCREMENTAL.value, 100, None,
        )  # fmt: skip
        (job,) = await wait_for(pool, [job_id], ("SUCCEEDED", "FAILED"), within=60)
    assert job["status"] == "SUCCEEDED", job["error"]
    since, last = await _span(pool, job_id)
    # The window trails the last day read before, so the days since then are read too.
    assert since == read_until - timedelta(days=9)
    assert last > read_until
    async with pool.acquire() as conn:
        assert await daily_mismatches(conn, running, shop, first, last) == []
        # Restatement as data: days whose figures moved say when; closed days are final.
        days = await conn.fetchrow(
            "SELECT count(*) FILTER (WHERE changed_at > $2 AND day <= $3) AS restated, "
            "count(*) FILTER (WHERE changed_at > $2 AND day < $4) AS outside, "
            "count(*) FILTER (WHERE final_at IS NULL AND day <= $5) AS open_but_closed, "
            "count(*) FILTER (WHERE final_at IS NOT NULL AND day > $5) AS final_too_soon "
            "FROM core_warehouse.fact_marketing_daily WHERE shop_id = $1",
            shop.shop_id, synced_at, read_until, since, last - timedelta(days=10),
        )  # fmt: skip
    assert days["restated"] > 0, "late conversions restate the last days read"
    assert days["outside"] == 0
    assert days["open_but_closed"] == 0
    assert days["final_too_soon"] == 0
    # The campaign rollup top campaigns read is the facts' sum, restated days included.
    drift = await pool.fetchval(
        """SELECT count(*) FROM (
             SELECT shop_id, platform, day, campaign_id, currency, sum(spend) AS spend,
                    sum(purchase_value) AS value, sum(clicks) AS clicks
             FROM core_warehouse.fact_marketing_campaign_daily GROUP BY 1, 2, 3, 4, 5) AS f
           FULL JOIN reporting.campaign_daily AS r USING (shop_id, platform, day, campaign_id,
                                                          currency)
           WHERE (f.spend, f.value, f.clicks) IS DISTINCT FROM
                 (r.spend, r.purchase_value, r.clicks)"""
    )
    assert drift == 0
    assert await pool.fetchval("SELECT count(*) FROM reporting.campaign_daily") > 0


async def test_insights_timeouts_fall_back_to_report_runs(
    db_dsn: str, pool: asyncpg.Pool, running: RunningSandbox
) -> None:
    shop = running.world.shops[SHOP]
    running.world.faults.inject(
        "meta", shop.shop_id, FaultKind.INSIGHTS_TIMEOUT, times=None, probability=1.0, seed=3
    )
    async with pool.acquire() as conn:
        job_id = await connect_meta(conn, shop)
    async with meta_engine(db_dsn, running, sync_max_days=90, chunk_days=60):
        (job,) = await wait_for(pool, [job_id], ("SUCCEEDED", "FAILED"), within=90)
    assert job["status"] == "SUCCEEDED", job["error"]
    first, last = await _span(pool, job_id)
    async with pool.acquire() as conn:
        assert await daily_mismatches(conn, running, shop, first, last) == []


async def test_a_throttled_account_is_retried(
    db_dsn: str, pool: asyncpg.Pool, running: RunningSandbox
) -> None:
    """Meta names a window longer than the connector may wait: the job goes back to the queue
    with a structured error and succeeds on its next attempt."""
    shop = running.world.shops[SHOP]
    running.world.faults.inject("meta", shop.shop_id, FaultKind.THROTTLE, code=80000)
    async with pool.acquire() as conn:
        job_id = await connect_meta(conn, shop)
    async with meta_engine(db_dsn, running, max_throttle_wait_seconds=0.5):
        (job,) = await wait_for(pool, [job_id], ("SUCCEEDED", "FAILED"), within=90)
    assert job["status"] == "SUCCEEDED", job["error"]
    codes = await pool.fetch(
        "SELECT detail->'error'->>'code' AS code FROM app_dashboard.sync_job_events "
        "WHERE job_id = $1 AND from_status = 'IN_PROGRESS' AND to_status = 'QUEUED'",
        job_id,
    )
    assert [c["code"] for c in codes] == ["meta_throttled"]


async def test_an_expired_token_needs_reauth(
    db_dsn: str, pool: asyncpg.Pool, running: RunningSandbox
) -> None:
    shop = running.world.shops[SHOP]
    running.world.faults.inject("meta", shop.shop_id, FaultKind.EXPIRED_TOKEN, times=None)
    async with pool.acquire() as conn:
        job_id = await connect_meta(conn, shop)
    async with meta_engine(db_dsn, running):
        (job,) = await wait_for(pool, [job_id], ("FAILED",), within=60)
    assert job["error"]["code"] == "meta_token_invalid"
    assert shop.meta_token not in str(job["error"])
    status = await pool.fetchval(
        "SELECT status FROM app_dashboard.shop_credentials WHERE shop_id = $1 AND platform = $2",
        shop.shop_id,
        Platform.META.value,
    )
    assert status == "NEEDS_REAUTH"
    cursor = await pool.fetchval(
        "SELECT watermark FROM app_dashboard.sync_cursors WHERE shop_id = $1 AND platform = $2",
        shop.shop_id,
        Platform.META.value,
    )
    assert not cursor, "a failed job never moves the cursor"


async def test_a_failed_report_run_and_a_5xx_burst_end_in_correct_data(
    db_dsn: str, pool: asyncpg.Pool, running: RunningSandbox
) -> None:
    """A report run that ends 'Job Failed' retries the job (its chunks already staged are not
    read again); a burst of transient errors is absorbed by the client's retries."""
    shop = running.world.shops[SHOP]
    running.world.faults.inject("meta", shop.shop_id, FaultKind.SERVER_ERROR, times=3, code=2)
    running.world.faults.inject("meta", shop.shop_id, FaultKind.BULK_FAILED)
    async with pool.acquire() as conn:
        job_id = await connect_meta(conn, shop)
    async with meta_engine(db_dsn, running, chunk_days=60):
        (job,) = await wait_for(pool, [job_id], ("SUCCEEDED", "FAILED"), within=90)
    assert job["status"] == "SUCCEEDED", job["error"]
    assert job["attempts"] == 2
    first, last = await _span(pool, job_id)
    async with pool.acquire() as conn:
        assert await daily_mismatches(conn, running, shop, first, last) == []


async def test_usage_near_the_limit_slows_calls_down(
    db_dsn: str, pool: asyncpg.Pool, running: RunningSandbox
) -> None:
    """Fractional usage percentages past the pause mark make the client wait before calling."""
    shop = running.world.shops[SHOP]
    async with pool.acquire() as conn:
        job_id = await connect_meta(conn, shop)
    async with meta_engine(
        db_dsn, running, usage_slow_percent=0.001, usage_pause_percent=0.01,
        usage_pause_seconds=0.05, chunk_days=90,
    ) as built:  # fmt: skip
        (job,) = await wait_for(pool, [job_id], ("SUCCEEDED", "FAILED"), within=90)
    assert job["status"] == "SUCCEEDED", job["error"]
    client = built[-1].last_client
    assert client is not None
    assert client.pacer.seen_headers > 0
    assert client.http.stats.paced_wait > 0
