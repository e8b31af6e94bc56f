"""More than 10,000 deals change in one incremental window, and more than 10,000 of them share
one hs_lastmodifieddate (a bulk edit; the sandbox's opt-in `hubspot_bulk_edit_size`): the window
is re-sliced before HubSpot's 10,000-result cap and read by id within the stamp, every deal ends
right, none twice."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from datetime import UTC, datetime, time, timedelta

import asyncpg
import pytest

from sandbox import server
from sandbox.hubspot.catalog import BULK_EDITS, BULK_OWNER
from sandbox.server import RunningSandbox
from sandbox.world import World, make_shop
from tests.platforms.hubspot.support import (
    connect_hubspot,
    hubspot_engine,
    incremental,
    object_mismatches,
)
from tests.platforms.shopify.connector_support import wait_for


@pytest.fixture
def crowded() -> Iterator[RunningSandbox]:
    """~11,500 deals in 20 days of history: the next bulk edit stamps all of them at once."""
    shop = make_shop(
        "crowd-works", "Crowd Works", "USD", "America/Denver",
        history_days=20, orders_per_day=1300, index=10,
    )  # fmt: skip
    shop = dataclasses.replace(shop, hubspot_bulk_edit_size=20_000)
    running = server.start(World(seed=5, shops={shop.shop_id: shop}), ["hubspot"])
    try:
        yield running
    finally:
        running.stop()


def _next_bulk_edit(world: World) -> datetime:
    (shop,) = world.shops.values()
    day = world.history_start(shop) + timedelta(days=shop.history_days)
    at = datetime.combine(day, time(0), UTC)
    return at + next(
        e.after_anchor_day
        for e in BULK_EDITS
        if e.kind == "deals" and e.after_anchor_day > timedelta(0)
    )


async def test_more_than_ten_thousand_on_one_stamp(
    db_dsn: str, pool: asyncpg.Pool, crowded: RunningSandbox
) -> None:
    world = crowded.world
    (shop,) = world.shops.values()
    async with pool.acquire() as conn:
        job_id = await connect_hubspot(conn, shop)
    async with hubspot_engine(db_dsn, crowded, objects=("deals",)) as built:
        (backfill,) = await wait_for(pool, [job_id], ("SUCCEEDED", "FAILED"), within=60)
        assert backfill["status"] == "SUCCEEDED", backfill["error"]
        lag = timedelta(seconds=shop.hubspot_search_lag_seconds + 1)
        world.advance(_next_bulk_edit(world) - world.now() + lag)
        job = await incremental(pool, shop)
        assert job["status"] == "SUCCEEDED", job["error"]
    (reader,) = built[-1].readers
    assert reader.id_slices >= 2  # the stamp's records needed more than one search by id
    async with pool.acquire() as conn:
        assert await object_mismatches(conn, world, shop, ("deals",)) == []
        counts = await conn.fetchrow(
            "SELECT count(*) AS deals, count(*) FILTER (WHERE owner_id = $1) AS bulk "
            "FROM core_warehouse.crm_deals",
            BULK_OWNER,
        )
        read = await conn.fetchval(
            "SELECT count(*) FROM staging_ingest.hubspot_raw "
            "WHERE sync_job_id = $1 AND kind = 'deals' AND payload ->> 'source' = 'search'",
            job["id"],
        )
    assert counts["bulk"] > 10_000
    assert read >= counts["bulk"]
