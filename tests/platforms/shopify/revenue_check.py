"""Compare reporting.daily_revenue with the sandbox oracle for one shop (helper for the tests)."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

import asyncpg

from sandbox.shopify import oracle, profile
from sandbox.world import ShopProfile, World

FIELDS = ("orders", "gross_sales", "discounts", "returns", "net_sales", "shipping", "taxes",
          "duties", "additional_fees", "total_sales")  # fmt: skip


def _normal(row: dict[str, Any]) -> tuple[Any, ...]:
    return tuple(Decimal(str(row[f])) if f != "orders" else int(row[f]) for f in FIELDS)


def _empty(values: tuple[Any, ...]) -> bool:
    return all(v == 0 for v in values)


async def revenue_mismatches(
    conn: asyncpg.Connection, world: World, shop: ShopProfile
) -> list[str]:
    """Every shop-local day where the product and the oracle disagree (empty when all match)."""
    zone = ZoneInfo(profile.timezone(world, shop))  # the shop's CURRENT timezone
    last = world.now().astimezone(zone).date() + timedelta(days=1)
    first = world.history_start(shop) - timedelta(days=2)
    expected = {
        date.fromisoformat(r["date"]): _normal(r) for r in oracle.daily(world, shop, first, last)
    }
    rows = await conn.fetch(
        "SELECT * FROM reporting.daily_revenue WHERE shop_id = $1 AND day BETWEEN $2 AND $3",
        shop.shop_id,
        first,
        last,
    )
    actual = {r["day"]: _normal(dict(r)) for r in rows}
    problems = []
    for day in sorted(set(expected) | set(actual)):
        want = expected.get(day, (0,) * len(FIELDS))
        got = actual.get(day, (0,) * len(FIELDS))
        if want != got and not (_empty(want) and _empty(got)):
            diff = {f: (g, w) for f, g, w in zip(FIELDS, got, want, strict=True) if g != w}
            problems.append(f"{shop.shop_id} {day}: (product, oracle) {diff}")
    return problems
