"""Plan regression: a backfill's rollup runs in the transaction that loaded the rows, before any
statistics cover them, and must use hash joins (nested loops took minutes for a 20k-order shop)."""

from __future__ import annotations

from typing import Any

import asyncpg
import httpx

from sandbox.server import RunningSandbox
from storeline.platforms.shopify.load import copy_lines
from storeline.platforms.shopify.sql import queries
from storeline.platforms.shopify.transform import hash_joins, transform
from tests.platforms.shopify.warehouse_support import _iterate, bulk_lines, register_shops


def nested_loops(plan: dict[str, Any]) -> int:
    """How many Nested Loop joins a plan holds. On rows with no statistics yet, the planner takes
    every CTE and table for one row and probes per row; for a backfill's 20k orders that rescans a
    shop's line items per order (minutes), where hash joins take milliseconds."""
    own = 1 if plan["Node Type"] == "Nested Loop" else 0
    return own + sum(nested_loops(child) for child in plan.get("Plans", []))


async def test_rollup_of_freshly_loaded_rows_uses_hash_joins(
    conn: asyncpg.Connection, sandbox: RunningSandbox
) -> None:
    shop = next(iter(sandbox.world.shops.values()))
    await register_shops(conn, [shop])
    async with httpx.AsyncClient(timeout=30) as client:
        lines = await bulk_lines(client, sandbox.urls["shopify"], shop)
    rollup = queries()["refresh_shop_daily_kpis"]
    async with conn.transaction():
        await copy_lines(conn, job_id=1, shop_id=shop.shop_id, lines=_iterate(lines))
        days = sorted((await transform(conn, job_id=1, shop_id=shop.shop_id)).dates)
        assert len(days) > 100
        explain = f"EXPLAIN (FORMAT JSON) {rollup}"
        unguarded = (await conn.fetchval(explain, shop.shop_id, days))[0]["Plan"]
        async with hash_joins(conn):
            guarded = (await conn.fetchval(explain, shop.shop_id, days))[0]["Plan"]
    # The guard matters: without it the planner does nest loops over the fresh rows.
    assert nested_loops(unguarded) > 0
    assert nested_loops(guarded) == 0
