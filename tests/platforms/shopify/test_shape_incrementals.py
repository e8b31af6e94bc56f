"""Incrementals after the order shapes that change an order long after it was placed (issue 13):
an order edit on a later day, a goodwill refund (money on no refund line) and an exchange through
Shopify Returns. After a backfill the sandbox clock moves to just past each one in turn and the
next incremental must land it on its own day, with the rest of the shop still equal to the oracle
and no sale, return or adjustment stored twice.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta

import asyncpg
import pytest

from sandbox import server
from sandbox.server import RunningSandbox
from sandbox.shopify import generate, shapes
from sandbox.shopify.days import local_day
from sandbox.shopify.model import Order
from sandbox.world import World, make_shop
from storeline.core.enums import JobType
from tests.platforms.shopify.connector_support import connect_shop, engine, enqueue, wait_for
from tests.platforms.shopify.revenue_check import revenue_mismatches

SHAPES = frozenset({"edits", "adjustments", "returns"})
_HORIZON = timedelta(days=10)
_SEED = 6  # a world where all three happen within 3 days of its clock


@pytest.fixture(scope="module")
def running() -> Iterator[RunningSandbox]:
    # Shopify Plus: a bucket that refills in a second, so three incrementals of pages are quick.
    shop = make_shop("shape-incrementals", "Shape incrementals", "USD", "America/New_York",
                     history_days=30, orders_per_day=8, index=41, plan="plus")  # fmt: skip
    world = World(seed=_SEED, shops={shop.shop_id: shapes.with_shapes(shop, SHAPES)})
    started = server.start(world, platforms=["shopify"])
    yield started
    started.stop()


def _orders_at(world: World, at: datetime) -> list[Order]:
    """The shop's orders as the sandbox will show them at `at` (a copy of the clock moves)."""
    later = World(seed=world.seed, shops=world.shops, anchor=world.anchor,
                  _offset=at - world.anchor)  # fmt: skip
    (shop,) = later.shops.values()
    return list(generate.iter_orders(later, shop))


def _next_changes(world: World) -> dict[str, datetime]:
    """The first later-day edit, goodwill refund and exchange after the sandbox's now."""
    now = world.now()
    (shop,) = world.shops.values()
    tz = shop.timezone
    found: dict[str, datetime] = {}

    def note(kind: str, at: datetime) -> None:
        if at > now and (kind not in found or at < found[kind]):
            found[kind] = at

    for o in _orders_at(world, now + _HORIZON):
        for a in o.agreements:
            if a.reason == "ORDER_EDIT" and local_day(a.happened_at, tz) != local_day(
                o.processed_at, tz
            ):
                note("edit", a.happened_at)
        for r in o.refunds:
            if r.order_adjustments and not r.refund_line_items:
                note("goodwill", r.created_at)
        for ret in o.returns:
            if ret.exchange_line_item_id is not None:
                note("exchange", ret.created_at)
    return found


async def _stored(conn: asyncpg.Connection, shop_id: str) -> dict[str, int]:
    return {
        table: int(await conn.fetchval(
            f"SELECT count(*) FROM core_warehouse.{table} WHERE shop_id = $1", shop_id))
        for table in ("order_sales", "order_returns")
    } | {
        "adjusted_refunds": int(await conn.fetchval(
            "SELECT count(*) FROM core_warehouse.refunds WHERE shop_id = $1 AND adjustments <> 0",
            shop_id)),
    }  # fmt: skip


def _expected(world: World) -> dict[str, int]:
    orders = _orders_at(world, world.now())
    return {
        "order_sales": sum(len(a.sales) for o in orders for a in o.agreements),
        "order_returns": sum(len(o.returns) for o in orders),
        "adjusted_refunds": sum(1 for o in orders for r in o.refunds if r.order_adjustments),
    }


async def test_incrementals_land_edits_goodwill_and_exchanges_on_their_day(
    db_dsn: str, pool: asyncpg.Pool, running: RunningSandbox
) -> None:
    world = running.world
    (shop,) = world.shops.values()
    async with pool.acquire() as conn:
        job = await connect_shop(conn, shop)
    async with engine(db_dsn, running):
        (row,) = await wait_for(pool, [job], ("SUCCEEDED", "FAILED"))
        assert row["status"] == "SUCCEEDED", row["error"]
        changes = _next_changes(world)
        assert set(changes) == {"edit", "goodwill", "exchange"}, changes
        for kind, at in sorted(changes.items(), key=lambda item: item[1]):
            if at <= world.now():
                continue  # an earlier step already moved past it
            world.advance(at - world.now() + timedelta(minutes=1))
            async with pool.acquire() as conn:
                job = await enqueue(conn, shop.shop_id, JobType.INCREMENTAL)
            (row,) = await wait_for(pool, [job], ("SUCCEEDED", "FAILED"))
            assert row["status"] == "SUCCEEDED", row["error"]
            async with pool.acquire() as conn:
                assert await revenue_mismatches(conn, world, shop) == [], f"after the {kind}"
                assert await _stored(conn, shop.shop_id) == _expected(world), kind
