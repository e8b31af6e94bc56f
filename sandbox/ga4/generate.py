"""Deterministic GA4 traffic: one cell per shop-local day x source/medium x device.

A day's *final* figures are a pure function of (seed, shop, day). What the API shows is the final
figure scaled by how complete GA4's processing is at sandbox time: the current day grows through
the day and the two days after it still move (GA4 restates recent days for ~48 h), so a trailing
re-pull finds changed numbers, as it does against a real property.
"""

from __future__ import annotations

import functools
import random
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import ROUND_HALF_UP, Decimal
from zoneinfo import ZoneInfo

from sandbox.ga4.catalog import DEVICES, SESSIONS_PER_ORDER, SOURCES, Source
from sandbox.world import ShopProfile, World

CENT = Decimal("0.01")
WEEKDAY = (0.97, 0.95, 0.96, 1.0, 1.04, 1.08, 1.12)  # Monday .. Sunday
MONTH = (0.92, 0.88, 0.95, 0.97, 1.0, 0.96, 0.94, 0.97, 1.0, 1.04, 1.22, 1.30)
AOV = {"USD": 72.0, "EUR": 64.0, "AUD": 104.0}
SETTLE_HOURS = 48  # after this long past the day's end a day is final


@dataclass(frozen=True)
class Cell:
    """One (day, source/medium, device) row of counters and revenue as GA4 would report it."""

    day: date
    source: Source
    device: str
    counters: dict[str, int]
    revenue: Decimal

    def dimension(self, name: str) -> str:
        if name == "date":
            return self.day.strftime("%Y%m%d")
        if name == "sessionDefaultChannelGroup":
            return self.source.channel
        if name == "sessionSource":
            return self.source.source
        if name == "sessionMedium":
            return self.source.medium
        if name == "sessionSourceMedium":
            return f"{self.source.source} / {self.source.medium}"
        return self.device  # deviceCategory


def day_bounds(shop: ShopProfile, day: date) -> tuple[datetime, datetime]:
    """The UTC instants where a shop-local day starts and ends (DST-aware: 23 h or 25 h days)."""
    tz = ZoneInfo(shop.timezone)
    start = datetime.combine(day, time(0), tz)
    end = datetime.combine(day + timedelta(days=1), time(0), tz)
    return start, end


def local_today(world: World, shop: ShopProfile) -> date:
    return world.now().astimezone(ZoneInfo(shop.timezone)).date()


def completeness(now: datetime, start: datetime, end: datetime) -> float:
    """Share of a day's final figures GA4 shows at `now` (0 before the day starts)."""
    if now < start:
        return 0.0
    if now < end:
        return 0.85 * (now - start) / (end - start)
    hours = (now - end).total_seconds() / 3600
    if hours < 24:
        return 0.85 + 0.12 * hours / 24
    if hours < SETTLE_HOURS:
        return 0.97 + 0.03 * (hours - 24) / 24
    return 1.0


@functools.lru_cache(maxsize=8192)
def final_cells(seed: int, shop: ShopProfile, day: date) -> tuple[Cell, ...]:
    """The settled figures of one day; cached because they never change for a given seed."""
    rng = random.Random(f"{seed}:{shop.shop_id}:ga4:{day.isoformat()}")
    trend = 1.0 + 0.00025 * (day.toordinal() % 2000)
    base = (
        (shop.orders_per_day * SESSIONS_PER_ORDER * WEEKDAY[day.weekday()] * MONTH[day.month - 1])
        * trend
        * rng.uniform(0.88, 1.12)
    )
    aov = AOV.get(shop.currency, 70.0)
    cells: list[Cell] = []
    for source in SOURCES:
        for device, device_share in DEVICES:
            sessions = round(base * source.share * device_share * rng.uniform(0.8, 1.2))
            users = round(sessions * rng.uniform(0.78, 0.92))
            engaged = min(sessions, round(sessions * source.engagement * rng.uniform(0.9, 1.1)))
            conv = source.conversion * (0.7 if device == "mobile" else 1.2)
            transactions = min(engaged, round(sessions * conv * rng.uniform(0.6, 1.4)))
            revenue = Decimal(transactions * aov * rng.uniform(0.85, 1.15)).quantize(CENT)
            counters = {
                "sessions": sessions,
                "totalUsers": users,
                "newUsers": round(users * rng.uniform(0.55, 0.75)),
                "engagedSessions": engaged,
                "keyEvents": transactions + round(sessions * 0.012 * rng.uniform(0.5, 1.5)),
                "transactions": transactions,
                "screenPageViews": round(sessions * rng.uniform(2.4, 4.6)),
            }
            cells.append(Cell(day, source, device, counters, revenue))
    return tuple(cells)


def visible_cells(world: World, shop: ShopProfile, day: date) -> list[Cell]:
    """The day's cells as the API shows them at sandbox time (partial while processing)."""
    if day < world.history_start(shop):
        return []
    start, end = day_bounds(shop, day)
    share = completeness(world.now(), start, end)
    if share <= 0:
        return []
    if share >= 1:
        return list(final_cells(world.seed, shop, day))
    scale = Decimal(repr(share))
    return [
        Cell(
            c.day,
            c.source,
            c.device,
            {k: round(v * share) for k, v in c.counters.items()},
            (c.revenue * scale).quantize(CENT, ROUND_HALF_UP),
        )
        for c in final_cells(world.seed, shop, day)
    ]


def cells_between(world: World, shop: ShopProfile, first: date, last: date) -> Iterator[Cell]:
    """Every visible cell of the days first..last inclusive, one day at a time."""
    day = max(first, world.history_start(shop))
    last = min(last, local_today(world, shop))
    while day <= last:
        yield from visible_cells(world, shop, day)
        day += timedelta(days=1)
