"""Metrics: one shop's dashboard (KPIs, daily series, recent orders, campaigns, freshness) and all
of the caller's shops side by side.

Ranges are inclusive shop-local days; by default the last 30 days ending today in each shop's
own timezone, since that is how the shop's rollup buckets its days. RLS decides which shops and
rows exist; a shop the caller cannot see is a 404, like one that does not exist.
"""

from __future__ import annotations

import re
from datetime import date, timedelta
from typing import Annotated

import asyncpg
from litestar import Controller, get
from litestar.exceptions import ClientException, HTTPException, NotFoundException
from litestar.params import QueryParameter

from storeline.api.database import UserDb
from storeline.api.openapi import problems
from storeline.api.routes.shops import ShopId
from storeline.api.views_metrics import (
    AdAccount,
    Campaign,
    Day,
    Freshness,
    Kpis,
    RecentOrder,
    ShopifyReport,
    ShopMetrics,
    ShopsMetrics,
    ShopSummary,
    Staleness,
)
from storeline.core.sql import queries

SQL = queries("reporting")

DEFAULT_DAYS = 30
MAX_DAYS = 731  # two years, leap day included
STALE_AFTER_MINUTES = 15
RECENT_ORDERS = 10
TOP_CAMPAIGNS = 10

# Days a shop can have data for. Far-off dates are refused up front: `to=0001-01-01` has no 30
# days before it (date arithmetic overflows) and Postgres cannot bucket 9999-12-31 in a zone.
FIRST_DAY = date(1970, 1, 1)
LAST_DAY = date(2199, 12, 31)
# The same bounds as a pattern, so the OpenAPI schema states them (format: date rules out 02-30).
DAY_PATTERN = r"^(19[7-9][0-9]|2[01][0-9]{2})-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])$"
_DAY = re.compile(DAY_PATTERN)


def _day_parameter(name: str, what: str) -> QueryParameter:
    return QueryParameter(
        name=name,
        description=f"{what} shop-local day, YYYY-MM-DD (inclusive), {FIRST_DAY}..{LAST_DAY}",
        # Stated in the schema, checked by parse_day (whose message says what a day looks like).
        schema_extra={"pattern": DAY_PATTERN, "format": "date"},
    )


From = Annotated[str | None, _day_parameter("from", "first")]
To = Annotated[str | None, _day_parameter("to", "last")]


def parse_day(name: str, value: str | None) -> date | None:
    if value is None:
        return None
    try:
        if not _DAY.fullmatch(value):
            raise ValueError
        return date.fromisoformat(value)
    except ValueError:
        raise ClientException(
            f"{name} must be a date as YYYY-MM-DD between {FIRST_DAY} and {LAST_DAY}"
        ) from None


def resolve_range(first: date | None, last: date | None, today: date) -> tuple[date, date]:
    """The inclusive range asked for; a missing `to` is the shop's today, a missing `from` is
    30 days before `to`."""
    last = last or today
    first = first or max(FIRST_DAY, last - timedelta(days=DEFAULT_DAYS - 1))
    # Well-formed days that make no range: 422 (a rule), where malformed ones are 400.
    if first > last:
        hint = "" if last != today else " (to defaults to today in the shop's timezone)"
        raise HTTPException(status_code=422, detail=f"from {first} is after to {last}{hint}")
    if (last - first).days + 1 > MAX_DAYS:
        raise HTTPException(
            status_code=422, detail=f"the range {first}..{last} is over {MAX_DAYS} days"
        )
    return first, last


async def shop_kpis(
    db: asyncpg.Connection, ranges: list[tuple[str, date, date]]
) -> dict[str, asyncpg.Record]:
    """KPI rows per shop for each (shop, from, to), in one statement."""
    rows = await db.fetch(
        SQL["metrics_kpis"],
        [r[0] for r in ranges],
        [r[1] for r in ranges],
        [r[2] for r in ranges],
        STALE_AFTER_MINUTES,
    )
    return {row["shop_id"]: row for row in rows}


class MetricsController(Controller):
    path = "/api"
    tags = ("metrics",)

    @get("/shops/{shop_id:str}/metrics", responses=problems(404, 422))
    async def shop_metrics(
        self, db: UserDb, shop_id: ShopId, from_: From = None, to: To = None
    ) -> ShopMetrics:
        first, last = parse_day("from", from_), parse_day("to", to)
        shop = await db.fetchrow(SQL["metrics_shops"], shop_id)
        if shop is None:
            raise NotFoundException(f"no shop {shop_id!r} for this user")
        first, last = resolve_range(first, last, shop["today"])
        kpis = (await shop_kpis(db, [(shop_id, first, last)]))[shop_id]
        span = (shop_id, first, last)
        return ShopMetrics(
            shop_id=shop_id,
            currency=shop["currency"],
            timezone=shop["timezone"],
            from_=first,
            to=last,
            kpis=Kpis.from_row(kpis),
            shopify_report=ShopifyReport.from_row(kpis),
            daily=[Day.from_row(r) for r in await db.fetch(SQL["metrics_daily"], *span)],
            recent_orders=[
                RecentOrder.from_row(r)
                for r in await db.fetch(SQL["metrics_recent_orders"], *span, RECENT_ORDERS)
            ],
            top_campaigns=[
                Campaign.from_row(r)
                for r in await db.fetch(SQL["metrics_top_campaigns"], *span, TOP_CAMPAIGNS)
            ],
            ad_accounts=[
                AdAccount.from_row(r) for r in await db.fetch(SQL["metrics_ad_accounts"], shop_id)
            ],
            freshness={
                r["platform"]: Freshness.from_row(r)
                for r in await db.fetch(SQL["metrics_freshness"], shop_id)
            },
        )

    @get("/metrics", responses=problems(422))
    async def all_shops_metrics(
        self, db: UserDb, from_: From = None, to: To = None
    ) -> ShopsMetrics:
        """Every shop of the caller side by side, sorted by total sales (the number alone).

        No cross-shop totals: shops sell in different currencies, and adding EUR to USD needs
        an exchange rate and a date to take it at, which would be a figure no shop reported.
        """
        first, last = parse_day("from", from_), parse_day("to", to)
        shops = await db.fetch(SQL["metrics_shops"], None)
        ranges = [(s["id"], *resolve_range(first, last, s["today"])) for s in shops]
        kpis = await shop_kpis(db, ranges) if ranges else {}
        summaries = []
        for shop in shops:
            row = kpis[shop["id"]]
            staleness = Staleness(
                max_stale_minutes=row["max_stale_minutes"],
                stale_platforms=list(row["stale_platforms"]),
            )
            summaries.append(
                ShopSummary(
                    id=shop["id"],
                    name=shop["name"],
                    currency=shop["currency"],
                    timezone=shop["timezone"],
                    from_=row["day_from"],
                    to=row["day_to"],
                    kpis=Kpis.from_row(row),
                    shopify_report=ShopifyReport.from_row(row),
                    staleness=staleness,
                )
            )
        summaries.sort(key=lambda m: (-m.kpis.total_sales, m.name, m.id))
        return ShopsMetrics(shops=summaries)
