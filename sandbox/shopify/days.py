"""Which orders exist on a shop-local day: ids, creation times and the customers behind them.

A day's new-customer orders come from `Random(f"{seed}:{shop}:orders:{day}")`; each new customer
also draws, right there, on which later days (a fixed set of gaps) they come back. A day's
returning-customer orders are therefore found by re-reading the skeletons of the few days one gap
earlier, so any day (and any order id) can be regenerated alone, without the rest of history.

Ids encode the day: `ORDER_ID_BASE + shop_block + day_index * 10_000 + slot`, where slot < 1000
is a new customer's order (ranked by time) and `5000 + gap_index * 1000 + i` is the return visit of
customer i of the earlier day. Customer ids use the same scheme with the slot of their first order.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

from sandbox.shopify.catalog import CUSTOMER_ID_BASE, ORDER_ID_BASE, shop_block
from sandbox.world import ShopProfile

GAPS = (7, 21, 45, 90)  # days after the first order on which a customer may come back
GAP_P = (0.05, 0.09, 0.09, 0.07)
REPEAT_FACTOR = 1 + sum(GAP_P)
MAX_NEW_PER_DAY = 999
REPEAT_SLOT = 5000
DAY_SLOTS = 10_000
_WEEKDAY = (0.95, 0.95, 1.0, 1.0, 1.05, 1.1, 0.95)


@dataclass(frozen=True, slots=True)
class NewOrder:
    """A first order of a new customer (or a guest checkout) in a day's skeleton."""

    index: int
    seconds: int  # into the shop-local day
    guest: bool
    repeats: tuple[tuple[int, int], ...]  # (gap index, seconds into that later day)


@dataclass(frozen=True, slots=True)
class Stub:
    """Just enough to know an order exists; `build` turns it into an Order."""

    order_id: int
    day: date  # shop-local day of created_at
    created_at: datetime  # UTC
    customer_id: int | None
    customer_order_index: int  # 1 for a first order


def local_midnight(day: date, tz: str) -> datetime:
    return datetime.combine(day, time(0), tzinfo=ZoneInfo(tz)).astimezone(UTC)


def local_time(day: date, seconds: int, tz: str) -> datetime:
    wall = datetime.combine(day, time(0), tzinfo=ZoneInfo(tz)) + timedelta(seconds=seconds)
    return wall.astimezone(UTC)


def local_day(moment: datetime, tz: str) -> date:
    return moment.astimezone(ZoneInfo(tz)).date()


def expected_orders(shop: ShopProfile, start: date, day: date) -> float:
    """Orders per day with a weekly rhythm, a yearly season, Black Friday and slow growth."""
    season = 1 + 0.2 * math.sin(2 * math.pi * (day.timetuple().tm_yday - 80) / 365)
    if (day.month == 11 and day.day >= 24) or (day.month == 12 and day.day <= 2):
        season *= 2.2
    growth = 0.85 + 0.15 * min(1.0, (day - start).days / max(1, shop.history_days))
    return shop.orders_per_day * _WEEKDAY[day.weekday()] * season * growth


def _poisson(rng: random.Random, lam: float) -> int:
    if lam > 40:
        return max(0, round(rng.gauss(lam, math.sqrt(lam))))
    limit, k, p = math.exp(-lam), 0, rng.random()
    while p > limit:
        k += 1
        p *= rng.random()
    return k


def _seconds(rng: random.Random) -> int:
    """Mostly daytime shopping, some at any hour (so orders cross UTC midnight everywhere)."""
    if rng.random() < 0.75:
        return min(86_399, max(0, int(rng.gauss(14 * 3600, 4.5 * 3600))))
    return rng.randrange(86_400)


@lru_cache(maxsize=512)
def new_orders(seed: int, shop: ShopProfile, start: date, day: date) -> tuple[NewOrder, ...]:
    rng = random.Random(f"{seed}:{shop.shop_id}:orders:{day.isoformat()}")
    count = min(MAX_NEW_PER_DAY, _poisson(rng, expected_orders(shop, start, day) / REPEAT_FACTOR))
    draws = sorted(_seconds(rng) for _ in range(count))
    skeleton = []
    for index, seconds in enumerate(draws):
        guest = rng.random() < 0.07
        repeats = tuple(
            (gap_index, _seconds(rng))
            for gap_index, p in enumerate(GAP_P)
            if rng.random() < p and not guest
        )
        skeleton.append(NewOrder(index, seconds, guest, repeats))
    return tuple(skeleton)


def order_base(shop: ShopProfile, start: date, day: date) -> int:
    return ORDER_ID_BASE + shop_block(shop.shop_id) + (day - start).days * DAY_SLOTS


def customer_id(shop: ShopProfile, start: date, day: date, index: int) -> int:
    return CUSTOMER_ID_BASE + shop_block(shop.shop_id) + (day - start).days * DAY_SLOTS + index


def order_name(shop: ShopProfile, order_id: int) -> str:
    """Stable, unique, increasing by day: "#1001" is the first order of the first day."""
    return f"#{1001 + order_id - ORDER_ID_BASE - shop_block(shop.shop_id)}"


def split_id(shop: ShopProfile, start: date, object_id: int, base: int) -> tuple[date, int] | None:
    """Inverse of the id scheme: (day, slot), or None for an id this shop never issued."""
    rel = object_id - base - shop_block(shop.shop_id)
    if rel < 0:
        return None
    day_index, slot = divmod(rel, DAY_SLOTS)
    if day_index > 100_000:
        return None
    return start + timedelta(days=day_index), slot


def first_order_stub(seed: int, shop: ShopProfile, start: date, day: date, order: NewOrder) -> Stub:
    cid = None if order.guest else customer_id(shop, start, day, order.index)
    created = local_time(day, order.seconds, shop.timezone)
    return Stub(order_base(shop, start, day) + order.index, day, created, cid, 1)


def repeat_stubs(
    seed: int, shop: ShopProfile, start: date, day: date, order: NewOrder
) -> list[Stub]:
    """The return visits of the customer behind `order` (placed on `day`), in time order."""
    stubs = []
    for position, (gap_index, seconds) in enumerate(order.repeats):
        on = day + timedelta(days=GAPS[gap_index])
        slot = REPEAT_SLOT + gap_index * 1000 + order.index
        stubs.append(
            Stub(
                order_base(shop, start, on) + slot,
                on,
                local_time(on, seconds, shop.timezone),
                customer_id(shop, start, day, order.index),
                position + 2,
            )
        )
    return stubs


def day_stubs(seed: int, shop: ShopProfile, start: date, day: date) -> list[Stub]:
    """Every order created on a shop-local day (new and returning customers), by time then id."""
    if day < start:
        return []
    stubs = [
        first_order_stub(seed, shop, start, day, o) for o in new_orders(seed, shop, start, day)
    ]
    for gap_index, gap in enumerate(GAPS):
        source = day - timedelta(days=gap)
        if source < start:
            continue
        for order in new_orders(seed, shop, start, source):
            if any(g == gap_index for g, _ in order.repeats):
                stubs.extend(
                    s for s in repeat_stubs(seed, shop, start, source, order) if s.day == day
                )
    stubs.sort(key=lambda s: (s.created_at, s.order_id))
    return stubs
