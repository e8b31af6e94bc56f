"""Counting users once: GA4's user metrics are de-duplicated, so they never add up across rows.

A day's visitors are modelled as draws from a pool: a set of cells holding u1, u2, ... users out of
a pool of N covers N * (1 - prod(1 - ui/N)) distinct users, which is the cell's own count for one
cell, less than the sum for several, and never less than the largest. Days combine the same way
over a property-wide pool (returning visitors), except `newUsers`: a user is new on one day only,
so new users add up across days but not across the rows of one day.
"""

from __future__ import annotations

from collections.abc import Iterable
from decimal import ROUND_HALF_UP, Decimal

from sandbox.ga4.catalog import PROPERTY_POOL_DAYS, SESSIONS_PER_ORDER
from sandbox.world import ShopProfile


def miss(count: int, pool: float) -> float:
    """The share of a pool that a cell of `count` users does not cover."""
    return 1.0 - min(1.0, count / pool) if pool > 0 else 1.0


def covered(missed: float, pool: float) -> float:
    """Distinct users in a pool of which `missed` (a product of `miss` values) was not reached."""
    return pool * (1.0 - missed)


def union(counts: Iterable[int], pool: float) -> float:
    missed = 1.0
    for count in counts:
        missed *= miss(count, pool)
    return covered(missed, pool)


def property_pool(shop: ShopProfile) -> float:
    """Everyone who could visit a shop in a range: some weeks' worth of its typical daily users."""
    return shop.orders_per_day * SESSIONS_PER_ORDER * 0.85 * PROPERTY_POOL_DAYS


def across_days(day_users: Iterable[float], pool: float) -> float:
    missed = 1.0
    values = list(day_users)
    if len(values) == 1:
        return values[0]
    for users in values:
        missed *= 1.0 - min(1.0, users / pool) if pool > 0 else 1.0
    return covered(missed, pool)


def whole(value: float) -> int:
    """Round a modelled user count the way the report shows it (half up, never negative)."""
    return max(0, int(Decimal(repr(value)).quantize(Decimal(1), ROUND_HALF_UP)))
