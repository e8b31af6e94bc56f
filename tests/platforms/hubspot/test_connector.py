"""The HubSpot connector over real HTTP against the sandbox, run by the real engine: a backfill
equals the sandbox object by object and the pipeline oracle day by day; incrementals pick up
stage moves, amount edits, archivals and changes search had not indexed yet, without duplicates;
429s wait their Retry-After; a dead token marks the credential NEEDS_REAUTH."""

from __future__ import annotations

from datetime import date, timedelta

import asyncpg
import pytest

from sandbox.faults import FaultKind
from sandbox.hubspot.generate import volume
from sandbox.hubspot.records import exists_count
from sandbox.server import RunningSandbox
from sandbox.world import ShopProfile, World
from storeline.core.enums import Platform
from tests.fixtures.sandbox import FreshSandbox
from tests.platforms.hubspot.support import (
    connect_hubspot,
    hubspot_engine,
    incremental,
    link_mismatches,
    object_mismatches,
    pipeline_mismatches,
)
from tests.platforms.shopify.connector_support import wait_for

SHOP = "kiri-surf.myshopify.com"  # AUD, Pacific/Kiritimati: local days far from UTC's
BUSY = "aurora-goods.myshopify.com"  # deals archived in the 20 days the incremental test moves
KINDS = ("deals", "contacts", "companies")


@pytest.fixture
def running(fresh_sandbox: FreshSandbox) -> RunningSandbox:
    return fresh_sandbox(platforms=["hubspot"])


def _days(world: World, shop: ShopProfile) -> tuple[date, date]:
    return world.history_start(shop) - timedelta(days=1), world.now().date() + timedelta(days=1)


async def _mismatches(conn: asyncpg.Connection, world: World, shop: ShopProfile) -> list[str]:
    first, last = _days(world, shop)
    return await object_mismatches(conn, world, shop, KINDS) + await pipeline_mismatches(
        conn, world, shop, first, last
    )


async def test_backfill_equals_the_sandbox_and_its_oracle(
    db_dsn: str, pool: asyncpg.Pool, running: RunningSandbox
) -> None:
    shop = running.world.shops[SHOP]
    async with pool.acquire() as conn:
        job_id = await connect_hubspot(conn, shop)
    async with hubspot_engine(db_dsn, running):
        (job,) = await wait_for(pool, [job_id], ("SUCCEEDED", "FAILED"), within=60)
    assert job["status"] == "SUCCEEDED", job["error"]
    async with pool.acquire() as conn:
        assert await _mismatches(conn, running.world, shop) == []
        deals = await conn.fetchrow(
            "SELECT (SELECT count(*) FROM core_warehouse.crm_contacts WHERE archived) AS archived, "
            "count(*) FILTER (WHERE amount IS NULL) AS no_amount, "
            "count(*) FILTER (WHERE close_date IS NULL) AS no_close, "
            "count(*) FILTER (WHERE cardinality(company_ids) > 0) AS linked, "
            "count(*) FILTER (WHERE renewal_date IS NOT NULL) AS renewals, "
            # kiri-surf's portal is multi-currency: USD deals beside its AUD company currency,
            # counted through HubSpot's conversion (the oracle sums amount_in_home_currency).
            "count(*) FILTER (WHERE currency <> company_currency "
            "                 AND amount_in_company_currency IS NOT NULL) AS converted "
            "FROM core_warehouse.crm_deals"
        )
        stages = await conn.fetch(
            "SELECT stage_id FROM core_warehouse.crm_pipeline_stages WHERE is_won ORDER BY 1"
        )
    assert min(deals.values()) > 0, dict(deals)  # every real shape occurred and was stored
    assert [s["stage_id"] for s in stages] == ["1011203", "closedwon"]


def _next_deal(world: World, shop: ShopProfile) -> timedelta:
    """How far ahead of the sandbox clock the next deal is created."""
    index = exists_count(world, shop, "deals")
    return volume(world, shop, "deals").created(index) - world.now()


async def test_incrementals_pick_up_moves_edits_archivals_and_late_index(
    db_dsn: str, pool: asyncpg.Pool, running: RunningSandbox
) -> None:
    world = running.world
    shop = world.shops[BUSY]
    async with pool.acquire() as conn:
        job_id = await connect_hubspot(conn, shop)
    backfilled_at = world.now()
    async with hubspot_engine(db_dsn, running) as built:
        await wait_for(pool, [job_id], ("SUCCEEDED",), within=60)
        # Weeks of stage moves, amount edits and archivals; then the clock stops 2 s after a
        # deal is created, which search has not indexed yet (its lag is 4.5 to 45 s).
        world.advance(timedelta(days=20))
        world.advance(_next_deal(world, shop) + timedelta(seconds=2))
        first = await incremental(pool, shop)
        assert first["status"] == "SUCCEEDED", first["error"]
        async with pool.acquire() as conn:
            late = await object_mismatches(conn, world, shop, ("deals",))
        assert len(late) == 1, late
        assert "missing" in late[0]
        # The next job's window starts an overlap before the cursor: the late change is read.
        world.advance(timedelta(minutes=5))
        second = await incremental(pool, shop)
        assert second["status"] == "SUCCEEDED", second["error"]
    assert all(r.slices for r in built[-1].readers)  # read through search, not the lists
    async with pool.acquire() as conn:
        assert await _mismatches(conn, world, shop) == []
        # Search has no associations: those of every deal it found, new or changed (two were
        # changed after a contact or company of theirs was archived), were read by batch.
        assert await link_mismatches(conn, world, shop, job_id) == []
        new = await conn.fetchval(
            "SELECT count(*) FROM core_warehouse.crm_deals WHERE created_at > $1", backfilled_at
        )
        assert new > 0
        moved = await conn.fetchval(
            "SELECT count(*) FROM core_warehouse.crm_deals WHERE sync_job_id > $1", job_id
        )
        archived = await conn.fetchval(
            "SELECT count(*) FROM core_warehouse.crm_deals WHERE archived AND sync_job_id > $1",
            job_id,
        )
    assert moved > 0
    assert archived > 0


async def test_a_429_waits_for_retry_after(
    db_dsn: str, pool: asyncpg.Pool, running: RunningSandbox
) -> None:
    """Seconds as HTTP says, and a large value read as milliseconds; whatever body shape."""
    shop = running.world.shops[SHOP]
    faults = running.world.faults
    faults.inject("hubspot", shop.shop_id, FaultKind.THROTTLE, retry_after="0.3", shape="plain")
    faults.inject("hubspot", shop.shop_id, FaultKind.THROTTLE, retry_after="1200")
    async with pool.acquire() as conn:
        job_id = await connect_hubspot(conn, shop)
    async with hubspot_engine(db_dsn, running) as built:
        (job,) = await wait_for(pool, [job_id], ("SUCCEEDED", "FAILED"), within=60)
    assert job["status"] == "SUCCEEDED", job["error"]
    client = built[0].last_client
    assert client is not None
    assert client.throttled == 2
    waited = client.objects.stats.throttle_wait + client.searches.stats.throttle_wait
    assert waited == pytest.approx(1.5)


async def test_an_expired_token_needs_reauth(
    db_dsn: str, pool: asyncpg.Pool, running: RunningSandbox
) -> None:
    shop = running.world.shops[SHOP]
    running.world.faults.inject("hubspot", shop.shop_id, FaultKind.EXPIRED_TOKEN, times=None)
    async with pool.acquire() as conn:
        job_id = await connect_hubspot(conn, shop)
    async with hubspot_engine(db_dsn, running):
        (job,) = await wait_for(pool, [job_id], ("FAILED",), within=60)
    assert job["error"]["code"] == "hubspot_token_expired"
    assert shop.hubspot_token not in str(job["error"])
    status = await pool.fetchval(
        "SELECT status FROM app_dashboard.shop_credentials WHERE shop_id = $1 AND platform = $2",
        shop.shop_id,
        Platform.HUBSPOT.value,
    )
    assert status == "NEEDS_REAUTH"
