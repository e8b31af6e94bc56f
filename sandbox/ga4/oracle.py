"""Expected GA4 figures per shop-local day, read straight from the sandbox's day tables.

It reads the same day tables the server reports from (as of sandbox time, so recent days are the
partial, still-processing figures the API shows right now, and "(other)" holds what the table
rolled up) and never goes through runReport's grouping code, so a bug in either side shows up as
a mismatch. Users are de-duplicated as GA4 does: `daily` gives each day's users as a date-only
report returns them (a connector must fetch those in a request of their own: they are less than
the sum of the day's channel rows), `users` a whole range's, `rows` the connector-grain rows.
"""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from sandbox.ga4 import users as dedup
from sandbox.ga4.catalog import SIGNALS, THRESHOLD_USERS
from sandbox.ga4.generate import SETTLE_HOURS, day_bounds, day_table
from sandbox.world import ShopProfile, World

FIELDS = {
    "sessions": "sessions",
    "engaged_sessions": "engagedSessions",
    "key_events": "keyEvents",
    "transactions": "transactions",
}


def _days(date_from: date, date_to: date) -> list[date]:
    return [date_from + timedelta(days=i) for i in range((date_to - date_from).days + 1)]


def daily(world: World, shop: ShopProfile, date_from: date, date_to: date) -> list[dict[str, Any]]:
    """One dict per day in [date_from, date_to]: additive counters summed over the day's table,
    users and new users counted once, purchase revenue, and the day's data-quality flags."""
    out: list[dict[str, Any]] = []
    for day in _days(date_from, date_to):
        table = day_table(world, shop, day)
        cells = table.cells if table else ()
        totals = {f: sum(c.counters[k] for c in cells) for f, k in FIELDS.items()}
        user_count = new_users = 0
        if table:
            user_count = dedup.whole(
                dedup.union((c.counters["totalUsers"] for c in cells), table.user_pool)
            )
            new_users = dedup.whole(
                dedup.union((c.counters["newUsers"] for c in cells), table.new_user_pool)
            )
        revenue = sum((c.revenue for c in cells), Decimal("0.00"))
        out.append(
            {
                "date": day.isoformat(),
                "sessions": totals["sessions"],
                "users": user_count,
                "new_users": new_users,
                "engaged_sessions": totals["engaged_sessions"],
                "key_events": totals["key_events"],
                "transactions": totals["transactions"],
                "purchase_revenue": str(revenue),
                "currency": shop.currency,
                "data_loss_from_other_row": bool(table and table.lost_to_other),
                "subject_to_thresholding": shop.handle in SIGNALS,
                "final": _final(world, shop, day),
            }
        )
    return out


def users(world: World, shop: ShopProfile, date_from: date, date_to: date) -> int:
    """Distinct users over the whole range, as a report without a date dimension counts them:
    less than the sum of the days' users, since people come back."""
    per_day = []
    for day in _days(date_from, date_to):
        table = day_table(world, shop, day)
        if table:
            counts = (c.counters["totalUsers"] for c in table.cells)
            per_day.append(dedup.union(counts, table.user_pool))
    return dedup.whole(dedup.across_days(per_day, dedup.property_pool(shop))) if per_day else 0


def rows(world: World, shop: ShopProfile, date_from: date, date_to: date) -> list[dict[str, Any]]:
    """The rows of a date x channel x source x medium x device report, as the API returns them:
    "(other)" rows where the table rolled combinations up, rows under the data threshold
    withheld on a Google-signals property, all-zero rows left out. Sorted by date, then names."""
    out: list[dict[str, Any]] = []
    withhold = shop.handle in SIGNALS
    for day in _days(date_from, date_to):
        table = day_table(world, shop, day)
        for cell in table.cells if table else ():
            c = cell.counters
            if not any(c.values()) and not cell.revenue:
                continue
            if withhold and 0 < c["totalUsers"] < THRESHOLD_USERS:
                continue
            out.append(
                {
                    "date": day.isoformat(),
                    "channel": cell.dimension("sessionDefaultChannelGroup"),
                    "source": cell.dimension("sessionSource"),
                    "medium": cell.dimension("sessionMedium"),
                    "device": cell.dimension("deviceCategory"),
                    "sessions": c["sessions"],
                    "users": c["totalUsers"],
                    "new_users": c["newUsers"],
                    "engaged_sessions": c["engagedSessions"],
                    "key_events": c["keyEvents"],
                    "transactions": c["transactions"],
                    "purchase_revenue": str(cell.revenue),
                }
            )
    out.sort(key=lambda r: (r["date"], r["channel"], r["source"], r["medium"], r["device"]))
    return out


def _final(world: World, shop: ShopProfile, day: date) -> bool:
    """Whether GA4 has stopped restating the day (SETTLE_HOURS past its end)."""
    return world.now() >= day_bounds(shop, day)[1] + timedelta(hours=SETTLE_HOURS)
