"""The GA4 connector over real HTTP against the sandbox, run by the real engine: a backfill
equals the oracle on every day (users from date-only requests, data-quality flags with real
values); an incremental replaces the re-pulled days without duplicates; exhausted quota waits,
or fails with a structured error and an unmoved cursor; an expired access token is refreshed;
invalid_grant marks the credential NEEDS_REAUTH."""

from __future__ import annotations

from datetime import date, timedelta

import asyncpg
import pytest

from sandbox.faults import FaultKind
from sandbox.ga4 import oracle
from sandbox.server import RunningSandbox
from storeline.core.enums import JobType, Platform
from storeline.core.sql import queries
from storeline.platforms.ga4.reports import user_ranges
from tests.fixtures.sandbox import FreshSandbox
from tests.platforms.ga4.support import connect_ga4, daily_mismatches, ga4_engine
from tests.platforms.shopify.connector_support import wait_for

AURORA = "aurora-goods.myshopify.com"  # a long tail: "(other)" rows nearly every day
BERLIN = "berlin-botanics.myshopify.com"  # Google signals: requests with users are thresholded

# Additive measures: the breakdown rows of a day sum to its totals (no user metric is in them).
BREAKDOWN_VS_TOTALS = """
SELECT t.day FROM core_warehouse.fact_web_traffic_day_totals AS t
LEFT JOIN (SELECT day, sum(sessions) AS s, sum(engaged_sessions) AS e, sum(transactions) AS x,
                  sum(purchase_revenue) AS r, count(*) AS n
           FROM core_warehouse.fact_web_traffic_daily WHERE shop_id = $1 GROUP BY day) AS b
    ON b.day = t.day
WHERE t.shop_id = $1
  AND (b.s IS DISTINCT FROM t.sessions OR b.e IS DISTINCT FROM t.engaged_sessions
       OR b.x IS DISTINCT FROM t.transactions OR b.r IS DISTINCT FROM t.purchase_revenue)
"""


@pytest.fixture
def running(fresh_sandbox: FreshSandbox) -> RunningSandbox:
    return fresh_sandbox(platforms=["ga4"])


async def _plan(pool: asyncpg.Pool, job_id: int) -> tuple[date, date]:
    progress = await pool.fetchval(
        "SELECT progress FROM app_dashboard.sync_jobs WHERE id = $1", job_id
    )
    plan = progress["ga4"]
    return date.fromisoformat(plan["since"]), date.fromisoformat(plan["until"])


async def _cursor(pool: asyncpg.Pool, shop_id: str) -> object:
    return await pool.fetchval(
        "SELECT watermark FROM app_dashboard.sync_cursors WHERE shop_id = $1 AND platform = $2",
        shop_id,
        Platform.GA4.value,
    )


async def _requeued(pool: asyncpg.Pool, job_id: int) -> list[asyncpg.Record]:
    return await pool.fetch(
        "SELECT detail->'error' AS error FROM app_dashboard.sync_job_events "
        "WHERE job_id = $1 AND from_status = 'IN_PROGRESS' AND to_status = 'QUEUED' ORDER BY id",
        job_id,
    )


@pytest.mark.parametrize("shop_id", [AURORA, BERLIN])
async def test_backfill_equals_the_oracle_on_every_day(
    db_dsn: str, pool: asyncpg.Pool, running: RunningSandbox, shop_id: str
) -> None:
    shop = running.world.shops[shop_id]
    async with pool.acquire() as conn:
        job_id = await connect_ga4(conn, shop)
    # Five months reach back past the property's first day; 20-row pages: several a day.
    async with ga4_engine(db_dsn, running, retention_months=5, page_size=20) as built:
        (job,) = await wait_for(pool, [job_id], ("SUCCEEDED", "FAILED"), within=60)
    assert job["status"] == "SUCCEEDED", job["error"]
    first, last = await _plan(pool, job_id)
    assert first == running.world.history_start(shop), "the property's first day with data"
    pages = await pool.fetchval(
        "SELECT count(*) FILTER (WHERE (payload->>'offset')::int > 0) "
        "FROM staging_ingest.ga4_reports_raw WHERE sync_job_id = $1",
        job_id,
    )
    assert pages > 0
    async with pool.acquire() as conn:
        assert await daily_mismatches(conn, running, shop, first, last) == []
        assert await conn.fetch(BREAKDOWN_VS_TOTALS, shop.shop_id) == []
        flags = await conn.fetchrow(
            "SELECT count(*) FILTER (WHERE data_loss_from_other_row) AS other, "
            "count(*) FILTER (WHERE subject_to_thresholding) AS thresholded, "
            "count(*) FILTER (WHERE NOT final) AS open, min(quota_tokens) AS tokens, "
            "count(DISTINCT property_timezone) AS zones "
            "FROM core_warehouse.fact_web_traffic_day_totals WHERE shop_id = $1",
            shop.shop_id,
        )
        others = await conn.fetchval(
            "SELECT count(*) FROM core_warehouse.fact_web_traffic_daily "
            "WHERE shop_id = $1 AND channel_group = '(other)'",
            shop.shop_id,
        )
        # Users over whole ranges, as GA4 counts them over each (never a sum of its days).
        ranges = await conn.fetch(
            "SELECT first_day, last_day, users FROM core_warehouse.fact_web_traffic_range_totals "
            "WHERE shop_id = $1",
            shop.shop_id,
        )
        summed = await conn.fetchval(
            "SELECT sum(users) FROM core_warehouse.fact_web_traffic_day_totals "
            "WHERE shop_id = $1 AND day > $2::date - 30",
            shop.shop_id,
            last,
        )
    assert {(r["first_day"], r["last_day"]) for r in ranges} == set(user_ranges(first, last))
    for r in ranges:
        assert r["users"] == oracle.users(running.world, shop, r["first_day"], r["last_day"])
    last_30 = next(r["users"] for r in ranges if r["last_day"] - r["first_day"] == timedelta(29))
    assert 0 < last_30 < summed
    if shop_id == AURORA:
        assert flags["other"] > 0
        assert others > 0
    else:
        assert flags["thresholded"] > 0
        assert flags["other"] == 0
    assert flags["open"] == 3  # today and the two days GA4 still restates
    assert flags["tokens"] > 0
    assert flags["zones"] == 1
    assert job["records_synced"] == await pool.fetchval(
        "SELECT count(*) FROM staging_ingest.ga4_reports_raw WHERE sync_job_id = $1", job_id
    )
    client = built[-1].last_client
    assert client is not None
    assert client.stats.throttled == 0
    assert client.auth.refreshes == 1  # one access token for the whole job


async def test_an_incremental_replaces_the_trailing_days(
    db_dsn: str, pool: asyncpg.Pool, running: RunningSandbox
) -> None:
    shop = running.world.shops[AURORA]
    async with pool.acquire() as conn:
        first_job = await connect_ga4(conn, shop)
    async with ga4_engine(db_dsn, running):
        await wait_for(pool, [first_job], ("SUCCEEDED",), within=60)
        first, read_until = await _plan(pool, first_job)
        running.world.advance(timedelta(days=2, hours=5))  # restated days, new days
        job_id = await pool.fetchval(
            queries("app_dashboard")["enqueue_job"], shop.shop_id, Platform.GA4.value,
            JobType.INCREMENTAL.value, 100, None,
        )  # fmt: skip
        (job,) = await wait_for(pool, [job_id], ("SUCCEEDED", "FAILED"), within=60)
    assert job["status"] == "SUCCEEDED", job["error"]
    since, last = await _plan(pool, job_id)
    assert since == read_until - timedelta(days=2)  # the default 3 trailing days
    assert last > read_until
    async with pool.acquire() as conn:
        assert await daily_mismatches(conn, running, shop, first, last) == []
        assert await conn.fetch(BREAKDOWN_VS_TOTALS, shop.shop_id) == []
        rewritten = await conn.fetchval(
            "SELECT count(DISTINCT day) FROM core_warehouse.fact_web_traffic_day_totals "
            "WHERE shop_id = $1 AND sync_job_id = $2",
            shop.shop_id,
            job_id,
        )
    assert rewritten == (last - since).days + 1
    assert (await _cursor(pool, shop.shop_id))["today"] == last.isoformat()  # type: ignore[index]


async def test_a_refused_request_waits_and_goes_on(
    db_dsn: str, pool: asyncpg.Pool, running: RunningSandbox
) -> None:
    """A 429 whose bucket no answer named (concurrent requests): wait briefly, resend."""
    shop = running.world.shops[AURORA]
    running.world.faults.inject("ga4", shop.shop_id, FaultKind.THROTTLE, quota="concurrentRequests")
    async with pool.acquire() as conn:
        job_id = await connect_ga4(conn, shop)
    async with ga4_engine(db_dsn, running) as built:
        (job,) = await wait_for(pool, [job_id], ("SUCCEEDED", "FAILED"), within=60)
    assert job["status"] == "SUCCEEDED", job["error"]
    assert await _requeued(pool, job_id) == []
    client = built[-1].last_client
    assert client is not None
    assert client.stats.throttled == 1


async def test_exhausted_quota_fails_structured_with_an_unmoved_cursor(
    db_dsn: str, pool: asyncpg.Pool, running: RunningSandbox
) -> None:
    """Every request refused until the property's hour turns: the job goes back to the queue
    with a structured error and no cursor; once the hour turns it finishes equal to the oracle."""
    shop = running.world.shops[AURORA]
    running.world.faults.inject(
        "ga4", shop.shop_id, FaultKind.THROTTLE, quota="tokensPerHour", exhaust=True
    )
    async with pool.acquire() as conn:
        job_id = await connect_ga4(conn, shop)
    async with ga4_engine(db_dsn, running, max_quota_wait_seconds=0.3) as built:
        for _ in range(200):
            if await _requeued(pool, job_id):
                break
            await _sleep()
        (event,) = (await _requeued(pool, job_id))[:1]
        assert event["error"]["code"] == "ga4_quota_exhausted"
        assert await _cursor(pool, shop.shop_id) is None
        running.world.advance(timedelta(hours=1))  # the sandbox's quota hour turns
        (job,) = await wait_for(pool, [job_id], ("SUCCEEDED", "FAILED"), within=60)
    assert job["status"] == "SUCCEEDED", job["error"]
    first, last = await _plan(pool, job_id)
    async with pool.acquire() as conn:
        assert await daily_mismatches(conn, running, shop, first, last) == []
    assert any(c.last_client and c.last_client.stats.throttled for c in built)


async def test_an_overdrawn_bucket_stops_the_job_before_google_refuses(
    db_dsn: str, pool: asyncpg.Pool, running: RunningSandbox
) -> None:
    """The first request overdraws the hourly bucket (`remaining` below zero): no further request
    is sent; the job fails over with retry_after = the wait for the next hour."""
    shop = running.world.shops[AURORA]
    running.world.faults.inject("ga4", shop.shop_id, FaultKind.THROTTLE, leave=1)
    async with pool.acquire() as conn:
        job_id = await connect_ga4(conn, shop)
    async with ga4_engine(db_dsn, running) as built:
        for _ in range(200):
            if await _requeued(pool, job_id):
                break
            await _sleep()
    (event, *_) = await _requeued(pool, job_id)
    assert event["error"]["code"] == "ga4_quota_exhausted"
    assert "tokensPerHour" in event["error"]["message"]
    assert await _cursor(pool, shop.shop_id) is None
    client = built[0].last_client
    assert client is not None
    assert client.stats.requests == 1
    assert client.stats.throttled == 0
    assert 0 < (client.pacer.window() or 0) <= 3600


async def test_an_expired_access_token_is_refreshed(
    db_dsn: str, pool: asyncpg.Pool, running: RunningSandbox
) -> None:
    shop = running.world.shops[AURORA]
    running.world.faults.inject("ga4", shop.shop_id, FaultKind.EXPIRED_TOKEN)
    async with pool.acquire() as conn:
        job_id = await connect_ga4(conn, shop)
    async with ga4_engine(db_dsn, running) as built:
        (job,) = await wait_for(pool, [job_id], ("SUCCEEDED", "FAILED"), within=60)
    assert job["status"] == "SUCCEEDED", job["error"]
    client = built[-1].last_client
    assert client is not None
    assert client.auth.refreshes == 2


async def test_invalid_grant_needs_reauth(
    db_dsn: str, pool: asyncpg.Pool, running: RunningSandbox, caplog: pytest.LogCaptureFixture
) -> None:
    shop = running.world.shops[AURORA]
    running.world.faults.inject("ga4", shop.shop_id, FaultKind.REVOKED_TOKEN, times=None)
    async with pool.acquire() as conn:
        job_id = await connect_ga4(conn, shop)
    async with ga4_engine(db_dsn, running):
        (job,) = await wait_for(pool, [job_id], ("FAILED",), within=60)
    assert job["error"]["code"] == "ga4_invalid_grant"
    for secret in (shop.ga4_refresh_token, shop.ga4_client_secret):
        assert secret not in str(job["error"])
        assert secret not in caplog.text
    assert "ya29." not in caplog.text  # no access token reaches a log line
    status = await pool.fetchval(
        "SELECT status FROM app_dashboard.shop_credentials WHERE shop_id = $1 AND platform = $2",
        shop.shop_id,
        Platform.GA4.value,
    )
    assert status == "NEEDS_REAUTH"
    assert await _cursor(pool, shop.shop_id) is None


async def _sleep() -> None:
    import asyncio

    await asyncio.sleep(0.05)


async def test_access_tokens_are_refreshed_before_they_expire(
    db_dsn: str, pool: asyncpg.Pool, running: RunningSandbox
) -> None:
    """A token within `token_leeway_seconds` of its expiry is replaced before it is sent: with a
    leeway longer than Google's hour every request gets a fresh one and none is refused."""
    shop = running.world.shops[BERLIN]
    async with pool.acquire() as conn:
        job_id = await connect_ga4(conn, shop)
    async with ga4_engine(db_dsn, running, token_leeway_seconds=7200) as built:
        (job,) = await wait_for(pool, [job_id], ("SUCCEEDED", "FAILED"), within=60)
    assert job["status"] == "SUCCEEDED", job["error"]
    client = built[-1].last_client
    assert client is not None
    assert client.auth.refreshes == client.stats.requests > 1


async def test_the_thresholded_requests_quota_running_out_stops_the_job(
    db_dsn: str, pool: asyncpg.Pool, running: RunningSandbox
) -> None:
    """On a Google-signals property every request with users spends one of 120 thresholded
    requests an hour; once that bucket is empty the whole property is refused, so the job stops
    before Google refuses it, names the bucket, and leaves the cursor (issue 22 item 7)."""
    shop = running.world.shops[BERLIN]
    running.world.faults.inject(
        "ga4", shop.shop_id, FaultKind.THROTTLE, quota="potentiallyThresholdedRequestsPerHour",
        leave=1,
    )  # fmt: skip
    async with pool.acquire() as conn:
        job_id = await connect_ga4(conn, shop)
    async with ga4_engine(db_dsn, running) as built:
        for _ in range(200):
            if await _requeued(pool, job_id):
                break
            await _sleep()
    (event, *_) = await _requeued(pool, job_id)
    assert event["error"]["code"] == "ga4_quota_exhausted"
    assert "potentiallyThresholdedRequestsPerHour" in event["error"]["message"]
    assert await _cursor(pool, shop.shop_id) is None
    client = built[0].last_client
    assert client is not None
    assert client.stats.requests == 2  # the span probe, then the day totals (with users)
    assert client.stats.throttled == 0


async def test_a_second_worker_waits_for_the_bucket_the_first_found_empty(
    db_dsn: str, pool: asyncpg.Pool, running: RunningSandbox
) -> None:
    """The quota is the property's, not one process's: after one worker's answer showed the
    hourly bucket overdrawn, a fresh worker (its own pools and clients) retrying the job sends
    nothing and fails over with the same wait."""
    shop = running.world.shops[AURORA]
    running.world.faults.inject("ga4", shop.shop_id, FaultKind.THROTTLE, leave=1)
    async with pool.acquire() as conn:
        job_id = await connect_ga4(conn, shop)
    async with ga4_engine(db_dsn, running):
        for _ in range(200):
            if await _requeued(pool, job_id):
                break
            await _sleep()
    await pool.execute("UPDATE app_dashboard.sync_jobs SET run_after = now() WHERE id = $1", job_id)
    async with ga4_engine(db_dsn, running) as fresh:
        for _ in range(200):
            if len(await _requeued(pool, job_id)) > 1:
                break
            await _sleep()
    (_, event, *_) = await _requeued(pool, job_id)
    assert event["error"]["code"] == "ga4_quota_exhausted"
    assert "quota of this property is used up" in event["error"]["message"]
    client = fresh[0].last_client
    assert client is not None
    assert client.stats.requests == 0
