"""A shop's timezone change moves ALL its history, like Shopify's reports: after the merchant
switches Kiritimati (UTC+14) to Pago Pago (UTC-11), the next job syncs the shop profile, the
shops_timezone_restamp trigger restamps every stored day, and daily_revenue equals the oracle
computed in the new timezone on every day (not only the days the job touched)."""

from __future__ import annotations

from datetime import timedelta

import asyncpg
import pytest

from sandbox.server import RunningSandbox
from sandbox.shopify import profile
from storeline.core.enums import JobType
from storeline.platforms.shopify.connector import ShopifyConnector
from tests.fixtures.sandbox import FreshSandbox
from tests.platforms.shopify.connector_support import connect_shop, engine, enqueue, wait_for
from tests.platforms.shopify.revenue_check import revenue_mismatches

KIRI = "kiri-surf.myshopify.com"
NEW_ZONE = "Pacific/Pago_Pago"


@pytest.fixture
def running(fresh_sandbox: FreshSandbox) -> RunningSandbox:
    return fresh_sandbox(platforms=["shopify"])


async def _days(pool: asyncpg.Pool) -> set[object]:
    async with pool.acquire() as conn:
        rows = await conn.fetch("SELECT day FROM reporting.daily_revenue WHERE shop_id = $1", KIRI)
    return {r["day"] for r in rows}


async def test_a_timezone_change_restamps_every_stored_day(
    db_dsn: str, pool: asyncpg.Pool, running: RunningSandbox
) -> None:
    world = running.world
    shop = world.shops[KIRI]
    async with pool.acquire() as conn:
        job = await connect_shop(conn, shop)
    async with engine(db_dsn, running, connector=ShopifyConnector):
        rows = await wait_for(pool, [job], ("SUCCEEDED", "FAILED"))
        assert rows[0]["status"] == "SUCCEEDED", rows[0]["error"]
        async with pool.acquire() as conn:
            assert await revenue_mismatches(conn, world, shop) == []
        before = await _days(pool)

        profile.set_timezone(world, KIRI, NEW_ZONE)
        world.advance(timedelta(hours=2))
        async with pool.acquire() as conn:
            job = await enqueue(conn, KIRI, JobType.INCREMENTAL)
        rows = await wait_for(pool, [job], ("SUCCEEDED", "FAILED"))
        assert rows[0]["status"] == "SUCCEEDED", rows[0]["error"]

    async with pool.acquire() as conn:
        zone = await conn.fetchval("SELECT timezone FROM app_dashboard.shops WHERE id = $1", KIRI)
        assert zone == NEW_ZONE
        assert await revenue_mismatches(conn, world, shop) == []
        stale = await conn.fetchval(
            "SELECT count(*) FROM core_warehouse.orders"
            " WHERE shop_id = $1 AND processed_date <> (processed_at AT TIME ZONE $2)::date",
            KIRI,
            NEW_ZONE,
        )
    assert stale == 0
    assert await _days(pool) != before  # 25 hours apart: days really moved


async def test_a_users_timezone_edit_rebuilds_the_rollup_too(
    db_dsn: str, pool: asyncpg.Pool, running: RunningSandbox
) -> None:
    """The trigger does not depend on the connector: any UPDATE of shops.timezone restamps."""
    world = running.world
    shop = world.shops[KIRI]
    async with pool.acquire() as conn:
        job = await connect_shop(conn, shop)
    async with engine(db_dsn, running):
        rows = await wait_for(pool, [job], ("SUCCEEDED", "FAILED"))
        assert rows[0]["status"] == "SUCCEEDED", rows[0]["error"]
    profile.set_timezone(world, KIRI, NEW_ZONE)
    async with pool.acquire() as conn:
        await conn.execute(
            "UPDATE app_dashboard.shops SET timezone = $2 WHERE id = $1", KIRI, NEW_ZONE
        )
        assert await revenue_mismatches(conn, world, shop) == []
