"""The shop's settings as `shop { ianaTimezone currencyCode }` reports them, and their changes.

A merchant can change the store's timezone at any time; Shopify then reports ALL history in the
new one, while every order keeps its instant. The generator lays out orders in the timezone the
world was built with (`ShopProfile.timezone`), so a change is kept here, beside the world, and
read by the `shop` query and the oracle only: moving the reporting timezone never moves an order.
"""

from __future__ import annotations

import threading
import weakref
import zlib
from typing import Any

from sandbox.shopify.encoding import gid
from sandbox.world import ShopProfile, World

_lock = threading.Lock()
_timezones: dict[int, dict[str, str]] = {}  # id(world) → shop_id → IANA timezone


def set_timezone(world: World, shop_id: str, timezone: str) -> None:
    """The merchant picks another timezone (Settings → General → Time zone)."""
    if shop_id not in world.shops:
        raise KeyError(shop_id)
    with _lock:
        if id(world) not in _timezones:
            weakref.finalize(world, _timezones.pop, id(world), None)
        _timezones.setdefault(id(world), {})[shop_id] = timezone


def timezone(world: World, shop: ShopProfile) -> str:
    """The shop's current (reporting) timezone."""
    with _lock:
        return _timezones.get(id(world), {}).get(shop.shop_id, shop.timezone)


def shop_view(world: World, shop: ShopProfile) -> dict[str, Any]:
    return {
        "__typename": "Shop",
        "id": gid("Shop", 60_000_000 + zlib.crc32(shop.shop_id.encode()) % 10_000_000),
        "name": shop.name,
        "myshopifyDomain": shop.shop_id,
        "ianaTimezone": timezone(world, shop),
        "currencyCode": shop.currency,
    }
