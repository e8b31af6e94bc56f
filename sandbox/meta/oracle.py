"""Expected Meta figures per account-local day, straight from the generator (no HTTP, no paging,
no product SQL), as of the sandbox's current time.

Definitions the warehouse must follow to match:
- spend, impressions, clicks: the insights `spend`, `impressions`, `clicks` fields summed over
  every ad of the account (level=ad, time_increment=1).
- purchases / purchase_value: the platform-reported purchase figure is the `omni_purchase` entry
  of `actions` / `action_values`, its `value` key (the account's default attribution,
  7-day click + 1-day view). `purchase` carries the same numbers; never add
  `offsite_conversion.fb_pixel_purchase` or `onsite_web_purchase` on top — they are parts of it.
Money is a decimal string in the account currency (= the shop currency).
"""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from sandbox.meta.delivery import PURCHASE
from sandbox.meta.generate import day_rows
from sandbox.meta.structure import account_for
from sandbox.world import ShopProfile, World

PURCHASE_ACTION_TYPE = "omni_purchase"


def daily(world: World, shop: ShopProfile, date_from: date, date_to: date) -> list[dict[str, Any]]:
    account = account_for(world, shop)
    now = world.now()
    out = []
    day = date_from
    while day <= date_to:
        spend, value = Decimal(0), Decimal(0)
        impressions = clicks = purchases = 0
        for row in day_rows(account, world.seed, day, now):
            d = row.delivery
            spend += d.spend
            impressions += d.impressions
            clicks += d.clicks
            purchases += d.count(PURCHASE)
            value += d.value(PURCHASE)
        out.append(
            {
                "date": day.isoformat(),
                "currency": account.currency,
                "spend": str(spend.quantize(account.money_quantum)),
                "impressions": impressions,
                "clicks": clicks,
                "purchases": purchases,
                "purchase_value": str(value.quantize(account.money_quantum)),
            }
        )
        day += timedelta(days=1)
    return out
