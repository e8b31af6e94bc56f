"""What Meta reports for some ad-days at a moment: delivery plus conversions by attribution window.

Everything but reach is additive, so account/campaign/ad set levels and multi-day buckets are plain
sums. Reach (and so frequency) counts people, de-duplicated as Meta does: each ad-day reaches
`reach` people of its campaign's audience pool, drawn independently, so the people a group of
ad-days reaches is `pool * (1 - prod(1 - reach_i / pool))` per campaign, and campaigns combine the
same way within the account's pool. A coarser grain's reach is therefore less than the sum of the
finer ones' (and at least the largest of them): reach is never summed.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from decimal import Decimal

ATC, CHECKOUT, PURCHASE = 0, 1, 2
# Which narrowest-window classes each reported attribution window sums; "value" is the account's
# default attribution setting, 7-day click + 1-day view. "e1" are view-through conversions after an
# engaged view, so `1d_ev` is a part of `1d_view`. 7d_view/28d_view are gone since 2026-01-12.
WINDOWS: dict[str, tuple[str, ...]] = {
    "1d_click": ("c1",),
    "7d_click": ("c1", "c7"),
    "28d_click": ("c1", "c7", "c28"),
    "1d_view": ("v1", "e1"),
    "1d_ev": ("e1",),
    "value": ("c1", "c7", "v1", "e1"),
}
# -log(1 - share) is summed in fixed point, so the de-duplicated reach of a group does not depend
# on the order rows were added in (sync pages, async runs and the oracle all agree).
LOG_SCALE = 10**12


@dataclass
class Delivery:
    """What Meta reports for some ad-days at some moment; `add` merges another into it."""

    spend: Decimal = Decimal(0)
    impressions: int = 0
    reach: int = 0  # the sum of the ad-days' reach: NOT what Meta reports (see `people`)
    clicks: int = 0
    link_clicks: int = 0
    landing_page_views: int = 0
    post_engagement: int = 0
    # (kind, window class, onsite) -> [count, value]; classes c1/c7/c28/v1/e1 (see window_of)
    conv: dict[tuple[int, str, bool], list[int | Decimal]] = field(default_factory=dict)
    # action_type -> count, for the engagement and messaging actions with no value
    extra: dict[str, int] = field(default_factory=dict)
    # campaign id -> (audience pool, fixed-point sum of -log(1 - reach/pool) over its ad-days)
    audience: dict[str, tuple[int, int]] = field(default_factory=dict)

    def reached(self, campaign_id: str, pool: int, people: int) -> None:
        """Record that one ad-day of `campaign_id` reached `people` of its `pool`."""
        share = min(people / pool, 0.95)
        term = round(-math.log1p(-share) * LOG_SCALE)
        pool0, total = self.audience.get(campaign_id, (pool, 0))
        self.audience[campaign_id] = (pool0, total + term)
        self.reach += people

    def people(self, account_pool: int) -> int:
        """De-duplicated reach: per campaign within its pool, then across campaigns."""
        reached = [pool * -math.expm1(-total / LOG_SCALE) for pool, total in self.audience.values()]
        if len(reached) == 1:
            return round(reached[0])
        pool = max([account_pool, *(p for p, _ in self.audience.values())])
        missed = math.fsum(math.log1p(-min(r / pool, 0.999)) for r in reached)
        return round(pool * -math.expm1(missed))

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
        for name, n in other.extra.items():
            self.extra[name] = self.extra.get(name, 0) + n
        for campaign, (pool, total) in other.audience.items():
            mine = self.audience.get(campaign, (pool, 0))
            self.audience[campaign] = (mine[0], mine[1] + total)

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
