"""reporting.daily_revenue equals the sandbox oracle (Shopify's sales-report definitions) for
every shop and every shop-local day, from the real bulk JSONL fetched over HTTP."""

from __future__ import annotations

import asyncpg
import httpx

from sandbox.server import RunningSandbox
from sandbox.shopify import oracle
from tests.platforms.shopify.warehouse_support import (
    bulk_lines,
    history,
    load_job,
    mismatches,
    register_shops,
    revenue,
)


async def test_daily_revenue_equals_oracle_for_every_shop_and_day(
    conn: asyncpg.Connection, sandbox: RunningSandbox
) -> None:
    world = sandbox.world
    shops = list(world.shops.values())
    assert any(s.timezone == "Pacific/Kiritimati" for s in shops)
    await register_shops(conn, shops)
    async with httpx.AsyncClient(timeout=30) as client:
        for job_id, shop in enumerate(shops, start=1):
            lines = await bulk_lines(client, sandbox.urls["shopify"], shop)
            result = await load_job(conn, job_id=job_id, shop_id=shop.shop_id, lines=lines)
            assert result.orphans == 0
            first, last = history(world, shop)
            expected = oracle.daily(world, shop, first, last)
            assert sum(r["orders"] for r in expected) > 100
            assert mismatches(expected, await revenue(conn, shop.shop_id)) == []
            # Every day we report is a day the oracle knows (no stray dates).
            ours = await revenue(conn, shop.shop_id)
            assert set(ours) <= {r["date"] for r in expected}
