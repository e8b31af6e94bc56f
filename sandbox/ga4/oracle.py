"""Expected GA4 figures per shop-local day, summed straight from the sandbox's traffic cells.

It reads the same cells the server reports (as of sandbox time, so recent days are the partial,
still-processing figures the API shows right now) and never goes through runReport's grouping
code, so a bug in either side shows up as a mismatch.
"""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from sandbox.ga4.generate import visible_cells
from sandbox.world import ShopProfile, World

FIELDS = {
    "sessions": "sessions",
    "users": "totalUsers",
    "new_users": "newUsers",
    "engaged_sessions": "engagedSessions",
    "key_events": "keyEvents",
    "transactions": "transactions",
}


def daily(world: World, shop: ShopProfile, date_from: date, date_to: date) -> list[dict[str, Any]]:
    """One dict per day in [date_from, date_to]: traffic counters and purchase revenue."""
    out: list[dict[str, Any]] = []
    day = date_from
    while day <= date_to:
        totals = dict.fromkeys(FIELDS, 0)
        revenue = Decimal("0.00")
        for cell in visible_cells(world, shop, day):
            for field, counter in FIELDS.items():
                totals[field] += cell.counters[counter]
            revenue += cell.revenue
        out.append(
            {
                "date": day.isoformat(),
                **totals,
                "purchase_revenue": str(revenue),
                "currency": shop.currency,
            }
        )
        day += timedelta(days=1)
    return out
