"""Duties and additional fees: Shopify's "Total sales" = net sales + shipping + duties +
additional fees + taxes, with refunded duties negative on the refund's day. A cross-border-heavy
shop loaded from its real bulk JSONL must match the sandbox oracle on every field."""

from __future__ import annotations

from decimal import Decimal

import asyncpg
import httpx

from sandbox.server import RunningSandbox
from sandbox.shopify import generate, oracle
from tests.platforms.shopify.warehouse_support import (
    bulk_lines,
    history,
    load_job,
    mismatches,
    register_shops,
    revenue,
)

KIRI = "kiri-surf.myshopify.com"  # the tiny world's shop with a refunded duty


async def test_a_duty_bearing_shop_matches_the_oracle(
    conn: asyncpg.Connection, sandbox: RunningSandbox
) -> None:
    world = sandbox.world
    shop = world.shops[KIRI]
    orders = list(generate.iter_orders(world, shop))
    dutied = {o.id: o for o in orders if o.total_duties and not o.test}
    refunded = {o.id: o for o in dutied.values() if any(r.duties for r in o.refunds)}
    with_fees = [o for o in orders if o.additional_fees and not o.test]
    assert dutied, "the fixture shop must have duties"
    assert refunded, "... a refunded duty"
    assert with_fees, "... and additional fees"

    await register_shops(conn, [shop])
    async with httpx.AsyncClient(timeout=30) as client:
        lines = await bulk_lines(client, sandbox.urls["shopify"], shop)
    await load_job(conn, job_id=1, shop_id=shop.shop_id, lines=lines)

    rows = await conn.fetch(
        "SELECT id, original_total_duties, current_total_duties, original_total_additional_fees"
        " FROM core_warehouse.orders WHERE shop_id = $1 AND original_total_duties IS NOT NULL",
        shop.shop_id,
    )
    assert {r["id"]: r["original_total_duties"] for r in rows} == {
        o.id: o.total_duties for o in orders if o.total_duties
    }
    assert all(r["current_total_duties"] == 0 for r in rows if r["id"] in refunded)
    refund_duties = await conn.fetch(
        "SELECT order_id, sum(duties) AS duties FROM core_warehouse.refunds"
        " WHERE shop_id = $1 AND duties <> 0 GROUP BY order_id",
        shop.shop_id,
    )
    assert {r["order_id"]: r["duties"] for r in refund_duties} == {
        o.id: o.total_duties for o in refunded.values()
    }

    first, last = history(world, shop)
    expected = oracle.daily(world, shop, first, last)
    assert any(Decimal(r["duties"]) < 0 for r in expected), "a refund day gives duties back"
    ours = await revenue(conn, shop.shop_id)
    assert mismatches(expected, ours) == []
    assert sum(r["additional_fees"] for r in ours.values()) > 0
    for row in ours.values():
        parts = row["net_sales"] + row["shipping"] + row["duties"] + row["additional_fees"]
        assert row["total_sales"] == parts + row["taxes"]
