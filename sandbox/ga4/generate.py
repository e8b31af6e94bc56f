"""Deterministic GA4 traffic: one cell per shop-local day x source/medium x device.

A day's *final* figures are a pure function of (seed, shop, day). What the API shows is the final
figure scaled by how complete GA4's processing is at sandbox time: the current day grows through
the day and the two days after it still move (GA4 restates recent days for ~48 h), so a trailing
re-pull finds changed numbers, as it does against a real property.

A day is read as GA4's aggregated table for that day (`DayTable`): past TABLE_ROWS_PER_DAY
combinations, the smallest ones are rolled into one "(other)" combination, and the table carries
the pools that user counts are de-duplicated against (sandbox/ga4/users.py).
"""

from __future__ import annotations

import functools
import random
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import ROUND_HALF_UP, Decimal
from zoneinfo import ZoneInfo

from sandbox.ga4 import users
from sandbox.ga4.catalog import (
    DEFAULT_TAIL_SHARE,
    DEVICES,
    OTHER,
    SESSIONS_PER_ORDER,
    SOURCES,
    TABLE_ROWS_PER_DAY,
    TAIL_MAX,
    TAIL_SHARE,
    USER_POOL_FACTOR,
    Source,
)
from sandbox.world import ShopProfile, World

CENT = Decimal("0.01")
WEEKDAY = (0.97, 0.95, 0.96, 1.0, 1.04, 1.08, 1.12)  # Monday .. Sunday
MONTH = (0.92, 0.88, 0.95, 0.97, 1.0, 0.96, 0.94, 0.97, 1.0, 1.04, 1.22, 1.30)
AOV = {"USD": 72.0, "EUR": 64.0, "AUD": 104.0}
SETTLE_HOURS = 48  # after this long past the day's end a day is final
OTHER_SOURCE = Source(OTHER, OTHER, OTHER, 0.0, 0.0, 0.0)


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
            if self.source is OTHER_SOURCE:
                return OTHER
            return f"{self.source.source} / {self.source.medium}"
        return self.device  # deviceCategory

    @property
    def events(self) -> int:
        """Events behind the cell (page_view, session_start, user_engagement, key events)."""
        c = self.counters
        return c["screenPageViews"] + 2 * c["sessions"] + c["keyEvents"]


@dataclass(frozen=True)
class DayTable:
    """One day of GA4's aggregated table as the API reads it at sandbox time."""

    day: date
    cells: tuple[Cell, ...]
    user_pool: float  # distinct users of the day are drawn from this many
    new_user_pool: float
    lost_to_other: bool  # some combinations were rolled into "(other)"
    events: int


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
    cells.extend(_tail(rng, shop, day, base, aov))
    return tuple(cells)


def _tail(rng: random.Random, shop: ShopProfile, day: date, base: float, aov: float) -> list[Cell]:
    """The day's long tail: one-off referral sources, a session or a few each."""
    share = TAIL_SHARE.get(shop.handle, DEFAULT_TAIL_SHARE)
    sessions = round(base * share * rng.uniform(0.8, 1.2))
    distinct = min(sessions, TAIL_MAX)
    cells: list[Cell] = []
    for i in range(distinct):
        n = sessions // distinct + (1 if i < sessions % distinct else 0)
        source = Source("Referral", f"r{i:02d}.{shop.handle}-partners.example", "referral", 0, 0, 0)
        device = rng.choices([d for d, _ in DEVICES], [w for _, w in DEVICES])[0]
        engaged = min(n, round(n * rng.uniform(0.3, 0.6)))
        transactions = 1 if rng.random() < 0.01 * n else 0
        revenue = Decimal(transactions * aov * rng.uniform(0.85, 1.15)).quantize(CENT)
        visitors = max(1, round(n * rng.uniform(0.85, 1.0)))
        counters = {
            "sessions": n,
            "totalUsers": visitors,
            "newUsers": round(visitors * rng.uniform(0.6, 0.9)),
            "engagedSessions": engaged,
            "keyEvents": transactions,
            "transactions": transactions,
            "screenPageViews": round(n * rng.uniform(1.2, 2.5)),
        }
        cells.append(Cell(day, source, device, counters, revenue))
    return cells


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


def day_table(world: World, shop: ShopProfile, day: date) -> DayTable | None:
    """The day's aggregated table: visible cells, with the smallest combinations past the table's
    row limit rolled into one "(other)" cell. None before the property has data for the day."""
    cells = visible_cells(world, shop, day)
    if not cells:
        return None
    user_pool = USER_POOL_FACTOR * sum(c.counters["totalUsers"] for c in cells)
    new_pool = USER_POOL_FACTOR * sum(c.counters["newUsers"] for c in cells)
    live = [c for c in cells if c.counters["sessions"] > 0]
    lost = len(live) > TABLE_ROWS_PER_DAY
    if lost:
        ranked = sorted(live, key=_rank)
        kept, rolled = ranked[: TABLE_ROWS_PER_DAY - 1], ranked[TABLE_ROWS_PER_DAY - 1 :]
        zeros = [c for c in cells if c.counters["sessions"] == 0]
        cells = [*kept, _roll(day, rolled, user_pool, new_pool), *zeros]
    events = sum(c.events for c in cells)
    return DayTable(day, tuple(cells), user_pool, new_pool, lost, events)


def _rank(cell: Cell) -> tuple[int, str, str, str]:
    """Biggest combinations first; names break ties so the same ones always survive."""
    return (-cell.counters["sessions"], cell.source.source, cell.source.medium, cell.device)


def _roll(day: date, rolled: list[Cell], user_pool: float, new_pool: float) -> Cell:
    counters = {k: sum(c.counters[k] for c in rolled) for k in rolled[0].counters}
    # users of the (other) row are counted once, like any row's
    counters["totalUsers"] = users.whole(
        users.union((c.counters["totalUsers"] for c in rolled), user_pool)
    )
    counters["newUsers"] = users.whole(
        users.union((c.counters["newUsers"] for c in rolled), new_pool)
    )
    revenue = sum((c.revenue for c in rolled), Decimal("0.00"))
    return Cell(day, OTHER_SOURCE, OTHER, counters, revenue)


def tables_between(world: World, shop: ShopProfile, first: date, last: date) -> Iterator[DayTable]:
    """The day tables of first..last inclusive that have data, one day at a time."""
    day = max(first, world.history_start(shop))
    last = min(last, local_today(world, shop))
    while day <= last:
        table = day_table(world, shop, day)
        if table is not None:
            yield table
        day += timedelta(days=1)
