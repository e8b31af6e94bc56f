"""Customers: created with their first order; their return visits are known from that day's plan.

So a customer's whole order list (and `number_of_orders`, `amount_spent`, `updated_at` as of the
clock) is computed from at most five orders, without scanning history. A customer's updated_at
follows their orders' changes (a refund changes amount_spent), so incremental syncs see it.
"""

from __future__ import annotations

import random
from datetime import date, datetime

from sandbox.shopify.build import build_order
from sandbox.shopify.catalog import identity
from sandbox.shopify.days import NewOrder, Stub, customer_id, first_order_stub, repeat_stubs
from sandbox.shopify.model import ZERO, Customer, CustomerState
from sandbox.shopify.mutations import Fate, fate_for
from sandbox.world import ShopProfile

_STATES: tuple[CustomerState, ...] = ("ENABLED", "ENABLED", "DISABLED", "DISABLED", "DISABLED",
                                      "INVITED")  # fmt: skip


def _orders(
    seed: int, shop: ShopProfile, start: date, day: date, first: NewOrder, now: datetime
) -> list[tuple[Stub, Fate]]:
    stubs = [first_order_stub(seed, shop, start, day, first)]
    stubs += repeat_stubs(seed, shop, start, day, first)
    return [
        (s, fate_for(seed, shop.shop_id, s, shop.sales_shapes))
        for s in stubs
        if s.created_at <= now
    ]


def customer_updated_at(
    seed: int, shop: ShopProfile, start: date, day: date, first: NewOrder, now: datetime
) -> datetime | None:
    """None while the customer does not exist yet (their first order is in the future)."""
    orders = _orders(seed, shop, start, day, first, now)
    if first.guest or not orders:
        return None
    return max(f.updated_at(s.created_at, now) for s, f in orders)


def build_customer(
    seed: int, shop: ShopProfile, start: date, day: date, first: NewOrder, now: datetime
) -> Customer | None:
    orders = _orders(seed, shop, start, day, first, now)
    if first.guest or not orders:
        return None
    cid = customer_id(shop, start, day, first.index)
    person = identity(seed, shop.shop_id, str(cid))
    rng = random.Random(f"{seed}:{shop.shop_id}:customer:{cid}")
    state = rng.choice(_STATES)
    tags = tuple(t for t, p in (("newsletter", 0.3), ("wholesale", 0.05)) if rng.random() < p)
    kept = [(s, f) for s, f in orders if not f.deleted(now)]
    spent = ZERO
    for stub, fate in kept:
        if not fate.test:
            spent += build_order(seed, shop, start, stub, fate, now).net_payment
    return Customer(
        id=cid,
        email=person.email,
        first_name=person.first_name,
        last_name=person.last_name,
        created_at=orders[0][0].created_at,
        updated_at=max(f.updated_at(s.created_at, now) for s, f in orders),
        number_of_orders=len(kept),
        amount_spent=spent,
        currency_code=shop.currency,
        tags=tags,
        state=state,
    )
