"""The sandbox world: which shops exist, their accounts on every platform, and the sandbox clock.

Everything a source server generates is a pure function of (seed, shop, anchor, clock), so the same
arguments give the same bytes. Data is generated lazily per shop and per day/object index, never
held whole in memory, which keeps 100k-order shops cheap.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta

from sandbox.faults import FaultRegistry

# A fixed anchor keeps tests byte-for-byte reproducible; the demo passes "now".
DEFAULT_ANCHOR = datetime(2026, 11, 1, 12, 0, tzinfo=UTC)


@dataclass(frozen=True)
class ShopProfile:
    """One client store and its accounts on every platform (ids and secrets are sandbox-only)."""

    shop_id: str  # normalized myshopify domain, e.g. "aurora-goods.myshopify.com"
    name: str
    currency: str
    timezone: str  # IANA
    history_days: int  # how far before the anchor the shop's history starts
    orders_per_day: float
    shopify_token: str
    meta_ad_account_id: str  # "act_<digits>"
    meta_token: str
    ga4_property_id: str  # digits
    ga4_client_id: str
    ga4_client_secret: str
    ga4_refresh_token: str
    hubspot_portal_id: str
    hubspot_token: str
    plan: str = "standard"  # Shopify plan: sets the GraphQL rate limit (sandbox/shopify/cost.py)
    # Shopify order shapes beyond the defaults (tax-inclusive prices, gift cards, edits, …; the
    # names are sandbox/shopify/shapes.py's). Empty by default so existing worlds are unchanged.
    sales_shapes: frozenset[str] = frozenset()
    # HubSpot: the longest a change takes to reach the CRM search index (reads see it at once).
    hubspot_search_lag_seconds: float = 45.0
    # HubSpot: records one bulk edit touches, all stamped with one hs_lastmodifieddate. Keep it
    # under 10,000 by default; tests of the search cap raise it (sandbox/hubspot/catalog.py).
    hubspot_bulk_edit_size: int = 3000
    # Meta: campaigns in the ad account (None: 3-6 drawn from the seed). Each has 2-3 ad sets of
    # 2-3 ads, so ~80 campaigns make the ≥ 500-ad account bench/meta.py needs.
    meta_campaigns: int | None = None

    @property
    def handle(self) -> str:
        return self.shop_id.removesuffix(".myshopify.com")


def make_shop(
    handle: str,
    name: str,
    currency: str,
    timezone: str,
    *,
    history_days: int,
    orders_per_day: float,
    index: int,
    plan: str = "standard",
) -> ShopProfile:
    """Derive every account id and secret of a shop from its handle, so worlds stay reproducible."""
    return ShopProfile(
        shop_id=f"{handle}.myshopify.com",
        name=name,
        currency=currency,
        timezone=timezone,
        history_days=history_days,
        orders_per_day=orders_per_day,
        shopify_token=f"shpat_sandbox_{handle}",
        meta_ad_account_id=f"act_{1000000 + index}",
        meta_token=f"EAAsandbox{handle}",
        ga4_property_id=str(300000000 + index),
        ga4_client_id=f"{handle}.apps.sandbox.googleusercontent.com",
        ga4_client_secret=f"GOCSPX-sandbox-{handle}",
        ga4_refresh_token=f"1//sandbox-refresh-{handle}",
        hubspot_portal_id=str(4000000 + index),
        hubspot_token=f"pat-na1-sandbox-{handle}",
        plan=plan,
    )


# Sizes are parameters: "tiny" for unit tests, "demo" for ./scripts/demo, "bench" for benchmarks:
# (history days, orders per day, Shopify plan). A store taking ~36k orders a year (the bench size)
# is a Shopify Plus merchant in practice, so it gets Plus's API rate limit.
SIZES: dict[str, tuple[int, float, str]] = {
    "tiny": (120, 4.0, "standard"),
    "small": (400, 12.0, "standard"),
    "demo": (730, 25.0, "advanced"),
    "bench": (1100, 100.0, "plus"),
}


def default_shops(size: str = "tiny") -> list[ShopProfile]:
    """Shops in different currencies and timezones, one far from UTC (Pacific/Kiritimati)."""
    days, per_day, plan = SIZES[size]
    return [
        make_shop(
            "aurora-goods",
            "Aurora Goods",
            "USD",
            "America/Los_Angeles",
            history_days=days,
            orders_per_day=per_day,
            index=1,
            plan=plan,
        ),
        make_shop(
            "berlin-botanics",
            "Berlin Botanics",
            "EUR",
            "Europe/Berlin",
            history_days=days,
            orders_per_day=per_day * 0.7,
            index=2,
            plan=plan,
        ),
        make_shop(
            "kiri-surf",
            "Kiri Surf Co",
            "AUD",
            "Pacific/Kiritimati",
            history_days=days,
            orders_per_day=per_day * 0.5,
            index=3,
            plan=plan,
        ),
    ]


@dataclass
class World:
    """The seed, the shops, the sandbox clock and the injected faults; shared by every server."""

    seed: int = 7
    shops: dict[str, ShopProfile] = field(default_factory=dict)
    anchor: datetime = DEFAULT_ANCHOR
    faults: FaultRegistry = field(default_factory=FaultRegistry)
    _offset: timedelta = timedelta(0)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    @classmethod
    def build(cls, *, seed: int = 7, size: str = "tiny", anchor: datetime | None = None) -> World:
        shops = default_shops(size)
        return cls(seed=seed, shops={s.shop_id: s for s in shops}, anchor=anchor or DEFAULT_ANCHOR)

    def now(self) -> datetime:
        """Sandbox time: the anchor plus every clock advance so far (never the wall clock)."""
        with self._lock:
            return self.anchor + self._offset

    def advance(self, delta: timedelta) -> datetime:
        """Move sandbox time forward: new orders, edits, refunds, spend, traffic and deal moves
        become visible to every server, because each generator reads `now()`."""
        if delta < timedelta(0):
            raise ValueError("the sandbox clock only moves forward")
        with self._lock:
            self._offset += delta
            return self.anchor + self._offset

    def history_start(self, shop: ShopProfile) -> date:
        return (self.anchor - timedelta(days=shop.history_days)).date()

    def shop_by_token(self, platform: str, token: str) -> ShopProfile | None:
        attr = {
            "shopify": "shopify_token",
            "meta": "meta_token",
            "hubspot": "hubspot_token",
        }[platform]
        for shop in self.shops.values():
            if getattr(shop, attr) == token:
                return shop
        return None
