"""Refresh reporting.shop_daily_kpis for the shop-local days a Shopify job touched.

Only the given days are recomputed (from core_warehouse, never from staging), so an incremental
that moved three days costs three days of aggregation, and dashboards read the rollup only.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date

import asyncpg

from storeline.platforms.shopify.sql import queries
from storeline.platforms.shopify.transform import hash_joins


async def refresh_rollups(conn: asyncpg.Connection, *, shop_id: str, dates: Iterable[date]) -> None:
    """Recompute (or remove, when nothing is left) the shop's rollup rows for `dates`."""
    days = sorted(set(dates))
    if not days:
        return
    # A backfill's rollup aggregates rows loaded in this very transaction, which statistics do not
    # cover yet: without this the planner nests loops over whole tables (minutes for 20k orders).
    async with hash_joins(conn):
        await conn.execute(queries()["refresh_shop_daily_kpis"], shop_id, days)
