"""Expected Meta figures per account-local day, straight from the generator (no HTTP, no paging,
no product SQL), as of the sandbox's current time.

Definitions the warehouse must follow to match:
- spend, impressions, clicks: the insights `spend`, `impressions`, `clicks` fields summed over
  every ad of the account (level=ad, time_increment=1).
- purchases / purchase_value: the sum, over the action types in PURCHASE_ACTION_TYPES (an explicit
  set: `omni_purchase`), of their `actions` / `action_values` entries' `value` key (the account's
  default attribution, 7-day click + 1-day view). Rows carry many more action types; the ones in
  PURCHASE_ALIASES report the same purchases (or a part of them) under other names and are never
  added on top; anything else (`onsite_conversion.post_save`, `video_view`, ...) is not a purchase.
  Never match action types by pattern ("contains purchase" counts each purchase up to six times).
- reach: not in `daily` — it is de-duplicated, so it exists only at the grain it was asked at.
  `reach(world, shop, from, to, level=..., increment=...)` gives it per object and time bucket,
  exactly what insights reports for that level and `time_increment`; never sum it.
Money is a decimal string in the account currency (= the shop currency).
"""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from sandbox.meta.delivery import PURCHASE, Delivery
from sandbox.meta.generate import day_rows
from sandbox.meta.structure import Ad, account_for
from sandbox.world import ShopProfile, World

PURCHASE_ACTION_TYPE = "omni_purchase"
PURCHASE_ACTION_TYPES = frozenset({PURCHASE_ACTION_TYPE})
PURCHASE_ALIASES = frozenset(
    {
        "purchase",
        "offsite_conversion.fb_pixel_purchase",
        "onsite_web_purchase",
        "onsite_web_app_purchase",
        "onsite_conversion.purchase",
    }
)


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
            purchases += d.count(PURCHASE)  # = the omni_purchase entry: all purchases
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


def reach(
    world: World,
    shop: ShopProfile,
    date_from: date,
    date_to: date,
    *,
    level: str = "account",
    increment: int | str = 1,
) -> list[dict[str, Any]]:
    """De-duplicated reach and frequency per object of `level` (ad, adset, campaign, account) and
    time bucket (`increment` days, "monthly" or "all_days"), as insights reports them."""
    account = account_for(world, shop)
    now = world.now()
    out = []
    for start, stop in _buckets(date_from, date_to, increment):
        groups: dict[str, Delivery] = {}
        day = start
        while day <= stop:
            for row in day_rows(account, world.seed, day, now):
                groups.setdefault(_object_id(row.ad, level, account.number), Delivery()).add(
                    row.delivery
                )
            day += timedelta(days=1)
        for key in sorted(groups):
            d = groups[key]
            people = d.people(account.audience)
            out.append(
                {
                    "id": key,
                    "date_start": start.isoformat(),
                    "date_stop": stop.isoformat(),
                    "impressions": d.impressions,
                    "reach": people,
                    "frequency": d.impressions / people if people else None,
                }
            )
    return out


def _object_id(ad: Ad, level: str, account_number: str) -> str:
    ids = {
        "ad": ad.id,
        "adset": ad.adset.id,
        "campaign": ad.adset.campaign.id,
        "account": account_number,
    }
    return ids[level]


def _buckets(since: date, until: date, increment: int | str) -> list[tuple[date, date]]:
    if increment == "all_days":
        return [(since, until)]
    out = []
    start = since
    while start <= until:
        if increment == "monthly":
            nxt = (start.replace(day=1) + timedelta(days=32)).replace(day=1)
        else:
            nxt = start + timedelta(days=int(increment))
        out.append((start, min(until, nxt - timedelta(days=1))))
        start = nxt
    return out
