"""What Meta reports for some ad-days at a moment: delivery plus conversions by attribution window.

Additive, so account/campaign/ad set levels and multi-day buckets are plain sums (reach too: the
sandbox does not de-duplicate people across ads or days the way Meta's reach does).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal

ATC, CHECKOUT, PURCHASE = 0, 1, 2
# Which narrowest-window classes each reported attribution window sums; "value" is the account's
# default attribution setting, 7-day click + 1-day view.
WINDOWS: dict[str, tuple[str, ...]] = {
    "1d_click": ("c1",),
    "7d_click": ("c1", "c7"),
    "28d_click": ("c1", "c7", "c28"),
    "1d_view": ("v1",),
    "value": ("c1", "c7", "v1"),
}


@dataclass
class Delivery:
    """What Meta reports for an ad-day at some moment: additive, so levels/buckets just sum."""

    spend: Decimal = Decimal(0)
    impressions: int = 0
    reach: int = 0
    clicks: int = 0
    link_clicks: int = 0
    landing_page_views: int = 0
    post_engagement: int = 0
    # (kind, window class, onsite) -> [count, value]; classes c1/c7/c28/v1 (see window_of)
    conv: dict[tuple[int, str, bool], list[int | Decimal]] = field(default_factory=dict)

    def add(self, other: Delivery) -> None:
        self.spend += other.spend
        self.impressions += other.impressions
        self.reach += other.reach
        self.clicks += other.clicks
        self.link_clicks += other.link_clicks
        self.landing_page_views += other.landing_page_views
        self.post_engagement += other.post_engagement
        for key, (n, v) in other.conv.items():
            slot = self.conv.setdefault(key, [0, Decimal(0)])
            slot[0] += n
            slot[1] += v

    def count(self, kind: int, window: str = "value", onsite: bool | None = None) -> int:
        """Conversions of a kind in a reported window ("value" = the default attribution)."""
        classes = WINDOWS[window]
        return sum(
            int(n)
            for (k, c, o), (n, _) in self.conv.items()
            if k == kind and c in classes and (onsite is None or o == onsite)
        )

    def value(self, kind: int, window: str = "value", onsite: bool | None = None) -> Decimal:
        classes = WINDOWS[window]
        return sum(
            (
                Decimal(v)
                for (k, c, o), (_, v) in self.conv.items()
                if k == kind and c in classes and (onsite is None or o == onsite)
            ),
            Decimal(0),
        )
