"""The Shopify sandbox's data as of the sandbox clock: orders, customers and deleted orders.

Iteration is streamed day by day: each shop-local day's orders are generated, keyed by
updated_at, and held in a small heap only until no later day can produce an earlier key (every
key is at or after its object's creation). Memory therefore stays flat however long the history,
and `updated_at_min` / `since` queries start `MAX_MUTATION_DELAY` (plus, for customers, the
longest gap between a customer's orders) before the bound instead of at the beginning of time.
"""

from __future__ import annotations

import heapq
from collections.abc import Callable, Iterable, Iterator
from datetime import date, datetime, timedelta
from typing import TypeVar

from sandbox.shopify.build import build_order
from sandbox.shopify.catalog import CUSTOMER_ID_BASE, ORDER_ID_BASE
from sandbox.shopify.customers import build_customer, customer_updated_at
from sandbox.shopify.days import (
    GAPS,
    Stub,
    day_stubs,
    local_day,
    local_midnight,
    new_orders,
    order_name,
    split_id,
)
from sandbox.shopify.model import Customer, DeletionEvent, Order
from sandbox.shopify.mutations import MAX_MUTATION_DELAY, Fate, fate_for
from sandbox.world import ShopProfile, World

T = TypeVar("T")
CUSTOMER_WINDOW = MAX_MUTATION_DELAY + timedelta(days=max(GAPS) + 1)


def _days(world: World, shop: ShopProfile, first: date | None, now: datetime) -> list[date]:
    start = world.history_start(shop)
    lo = max(start, first) if first is not None else start
    hi = local_day(now, shop.timezone)
    return [lo + timedelta(days=i) for i in range((hi - lo).days + 1)]


def _merge(
    days: list[date], tz: str, produce: Callable[[date], Iterable[tuple[datetime, int, T]]]
) -> Iterator[T]:
    """Yield every produced item in (key, id) order, holding only the not-yet-final ones."""
    heap: list[tuple[datetime, int, T]] = []
    for day in days:
        for entry in produce(day):
            heapq.heappush(heap, entry)
        boundary = local_midnight(day + timedelta(days=1), tz)
        while heap and heap[0][0] < boundary:
            yield heapq.heappop(heap)[2]
    while heap:
        yield heapq.heappop(heap)[2]


def _first_day(world: World, shop: ShopProfile, bound: datetime | None, window: timedelta) -> date:
    if bound is None:
        return world.history_start(shop)
    return local_day(bound - window, shop.timezone)


def iter_orders(
    world: World,
    shop: ShopProfile,
    *,
    updated_at_min: datetime | None = None,
    include_deleted: bool = False,
) -> Iterator[Order]:
    """Orders as of `world.now()`, ascending (updated_at, id); updated_at_min is inclusive."""
    now, seed, start = world.now(), world.seed, world.history_start(shop)

    def produce(day: date) -> Iterator[tuple[datetime, int, tuple[Stub, Fate]]]:
        for stub in day_stubs(seed, shop, start, day):
            if stub.created_at > now:
                break
            fate = fate_for(seed, shop.shop_id, stub, shop.sales_shapes)
            if fate.deleted(now) and not include_deleted:
                continue
            key = fate.updated_at(stub.created_at, now)
            if updated_at_min is None or key >= updated_at_min:
                yield key, stub.order_id, (stub, fate)

    days = _days(world, shop, _first_day(world, shop, updated_at_min, MAX_MUTATION_DELAY), now)
    for stub, fate in _merge(days, shop.timezone, produce):
        yield build_order(seed, shop, start, stub, fate, now, include_deleted=include_deleted)


def iter_orders_created(
    world: World, shop: ShopProfile, first: date, last: date, *, include_deleted: bool = False
) -> Iterator[Order]:
    """Orders created on shop-local days first..last (as of now), by creation; for the oracle."""
    now, seed, start = world.now(), world.seed, world.history_start(shop)
    for day in _days(world, shop, first, now):
        if day > last:
            return
        for stub in day_stubs(seed, shop, start, day):
            if stub.created_at > now:
                return
            fate = fate_for(seed, shop.shop_id, stub, shop.sales_shapes)
            if include_deleted or not fate.deleted(now):
                yield build_order(seed, shop, start, stub, fate, now, include_deleted=True)


def get_order(world: World, shop: ShopProfile, order_id: int) -> Order | None:
    """One order by id in O(one day); None if unknown, not created yet, or deleted."""
    now, seed, start = world.now(), world.seed, world.history_start(shop)
    where = split_id(shop, start, order_id, ORDER_ID_BASE)
    if where is None or where[0] > local_day(now, shop.timezone):
        return None
    for stub in day_stubs(seed, shop, start, where[0]):
        if stub.order_id == order_id:
            fate = fate_for(seed, shop.shop_id, stub, shop.sales_shapes)
            if stub.created_at > now or fate.deleted(now):
                return None
            return build_order(seed, shop, start, stub, fate, now)
    return None


def iter_customers(
    world: World, shop: ShopProfile, *, updated_at_min: datetime | None = None
) -> Iterator[Customer]:
    """Customers as of `world.now()`, ascending (updated_at, id); updated_at_min is inclusive."""
    now, seed, start = world.now(), world.seed, world.history_start(shop)

    def produce(day: date) -> Iterator[tuple[datetime, int, tuple[date, int]]]:
        for first in new_orders(seed, shop, start, day):
            key = customer_updated_at(seed, shop, start, day, first, now)
            if key is not None and (updated_at_min is None or key >= updated_at_min):
                yield key, first.index + (day - start).days * 10_000, (day, first.index)

    days = _days(world, shop, _first_day(world, shop, updated_at_min, CUSTOMER_WINDOW), now)
    for day, index in _merge(days, shop.timezone, produce):
        customer = build_customer(
            seed, shop, start, day, new_orders(seed, shop, start, day)[index], now
        )
        if customer is not None:
            yield customer


def get_customer(world: World, shop: ShopProfile, customer_id: int) -> Customer | None:
    now, seed, start = world.now(), world.seed, world.history_start(shop)
    where = split_id(shop, start, customer_id, CUSTOMER_ID_BASE)
    if where is None or where[0] > local_day(now, shop.timezone):
        return None
    day, index = where
    skeleton = new_orders(seed, shop, start, day)
    if index >= len(skeleton):
        return None
    return build_customer(seed, shop, start, day, skeleton[index], now)


def iter_deletions(
    world: World, shop: ShopProfile, *, since: datetime | None = None
) -> Iterator[DeletionEvent]:
    """Orders deleted as of `world.now()`, ascending (occurred_at, order id); `since` inclusive."""
    now, seed, start = world.now(), world.seed, world.history_start(shop)

    def produce(day: date) -> Iterator[tuple[datetime, int, DeletionEvent]]:
        for stub in day_stubs(seed, shop, start, day):
            if stub.created_at > now:
                break
            at = fate_for(seed, shop.shop_id, stub, shop.sales_shapes).deleted_at
            if at is not None and at <= now and (since is None or at >= since):
                name = order_name(shop, stub.order_id)
                event = DeletionEvent(stub.order_id * 100 + 99, stub.order_id, at,
                                      f"Order {name} was deleted.")  # fmt: skip
                yield at, stub.order_id, event

    days = _days(world, shop, _first_day(world, shop, since, MAX_MUTATION_DELAY), now)
    yield from _merge(days, shop.timezone, produce)
