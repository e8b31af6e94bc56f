"""The ad account tree of one shop: campaigns → ad sets → ads, with ids, names and run dates.

The tree is a pure function of (seed, anchor, shop); campaigns and ads start and stop across the
shop's history and a few start after the anchor, so advancing the sandbox clock brings new ads
into the insights. Ids are 18-digit numeric strings like Meta's, and encode the account so they
never collide between shops.
"""

from __future__ import annotations

import functools
import random
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal

from sandbox.world import ShopProfile, World

CAMPAIGN_NAMES = (
    ("Prospecting | Broad | Advantage+", "OUTCOME_SALES"),
    ("Retargeting | Site Visitors 30d", "OUTCOME_SALES"),
    ("Lookalike 1% | Purchasers 180d", "OUTCOME_SALES"),
    ("Catalog Sales | Dynamic Product Ads", "OUTCOME_SALES"),
    ("Traffic | Blog & UGC", "OUTCOME_TRAFFIC"),
    ("Seasonal Promo | Gift Guide", "OUTCOME_SALES"),
    ("Brand Awareness | Video Reach", "OUTCOME_AWARENESS"),
    ("New Arrivals | Interest Stack", "OUTCOME_SALES"),
)
ADSET_NAMES = (
    "Women 25-44", "Men 25-54", "Advantage+ Audience", "Engaged Shoppers", "Lookalike 3%",
)  # fmt: skip
CREATIVES = ("UGC Video", "Carousel", "Static Lifestyle", "Founder Story", "Reels 9x16", "Offer")

# Zero-decimal currencies in Meta's account currency list; everything else has cents.
ZERO_DECIMAL = frozenset({"JPY", "KRW", "CLP", "VND", "ISK", "HUF", "TWD", "IDR", "COP", "PYG"})


@dataclass(frozen=True)
class Campaign:
    id: str
    name: str
    objective: str
    start: date
    stop: date | None  # last day with delivery (inclusive); None = still running
    daily_budget: Decimal
    roas: float  # the campaign's typical 7d_click+1d_view purchase ROAS
    cpm: float
    audience: int = 0  # people the campaign can reach: its reach saturates towards this


def audience_pool(daily_budget: Decimal, cpm: float, zero_decimal: bool) -> int:
    """About 25 days of the campaign's typical daily reach (impressions / 1.3): a month reaches
    half to two thirds of it, at a monthly frequency of 2-3."""
    unit = float(daily_budget) / (100 if zero_decimal else 1)
    return max(2000, int(unit / cpm * 1000 / 1.3 * 25))


@dataclass(frozen=True)
class AdSet:
    id: str
    name: str
    campaign: Campaign
    weight: float


@dataclass(frozen=True)
class Ad:
    id: str
    name: str
    adset: AdSet
    start: date
    stop: date | None
    weight: float
    ctr: float

    def runs_on(self, day: date) -> bool:
        c = self.adset.campaign
        return (
            self.start <= day
            and (self.stop is None or day <= self.stop)
            and c.start <= day
            and (c.stop is None or day <= c.stop)
        )


@dataclass(frozen=True)
class Account:
    """One shop's ad account; `number` is the digits Meta reports as `account_id`."""

    id: str  # "act_1000001"
    number: str
    shop_id: str
    name: str
    currency: str
    timezone: str
    aov: Decimal  # typical purchase value, in the account currency
    ads: tuple[Ad, ...]
    created: date

    @property
    def money_quantum(self) -> Decimal:
        return Decimal(1) if self.currency in ZERO_DECIMAL else Decimal("0.01")

    @property
    def audience(self) -> int:
        """People any of the account's campaigns can reach; campaigns' pools overlap in it."""
        pools = {ad.adset.campaign.id: ad.adset.campaign.audience for ad in self.ads}
        return max([*pools.values(), int(sum(pools.values()) * 0.7)])


def object_id(account_number: str, kind: int, index: int) -> str:
    """18 digits: "12020" + account (7, zero-padded) + kind (1 campaign, 2 ad set, 3 ad) + index."""
    return f"12020{int(account_number) % 10_000_000:07d}{kind}{index:05d}"


def account_for(world: World, shop: ShopProfile) -> Account:
    return _build(world.seed, world.anchor, shop, world.history_start(shop))


@functools.lru_cache(maxsize=64)
def _build(seed: int, anchor: datetime, shop: ShopProfile, history_start: date) -> Account:
    number = shop.meta_ad_account_id.removeprefix("act_")
    rng = random.Random(f"{seed}:{shop.shop_id}:meta:structure")
    aov = Decimal(str(round(rng.uniform(55, 110), 2)))
    if shop.currency in ZERO_DECIMAL:
        aov = aov * 100
    anchor_day = anchor.date()
    span = max(1, (anchor_day - history_start).days)
    # Ad spend is ~12-20 % of revenue: budgets scale with the shop's orders per day and AOV.
    daily_spend = Decimal(str(shop.orders_per_day)) * aov * Decimal(str(rng.uniform(0.12, 0.2)))
    n_campaigns = rng.randint(3, 6)
    if shop.meta_campaigns is not None:
        n_campaigns = shop.meta_campaigns
    weights = [rng.uniform(0.6, 1.6) for _ in range(n_campaigns)]
    ads: list[Ad] = []
    for c in range(n_campaigns):
        name, objective = CAMPAIGN_NAMES[c % len(CAMPAIGN_NAMES)]
        if c == 0:  # an evergreen prospecting campaign covers the whole history
            start, stop = history_start, None
        elif c == 1:
            start, stop = history_start + timedelta(days=rng.randint(0, 14)), None
        else:  # some start after the anchor, so the clock brings new campaigns
            start = history_start + timedelta(days=rng.randint(0, span + 20))
            stop = None if rng.random() < 0.3 else start + timedelta(days=rng.randint(14, 180))
        budget = (daily_spend * Decimal(str(weights[c] / sum(weights[:2])))).quantize(
            Decimal("0.01")
        )
        roas = rng.uniform(0.3, 0.8) if objective != "OUTCOME_SALES" else rng.uniform(1.4, 4.2)
        cpm = rng.uniform(7.0, 22.0)
        campaign = Campaign(
            id=object_id(number, 1, c),
            name=f"{name} | {start:%b %Y}" if c >= 2 else name,
            objective=objective,
            start=start,
            stop=stop,
            daily_budget=budget,
            roas=roas,
            cpm=cpm,
            audience=audience_pool(budget, cpm, shop.currency in ZERO_DECIMAL),
        )
        for s in range(rng.randint(2, 3)):
            adset = AdSet(
                id=object_id(number, 2, c * 10 + s),
                name=f"{ADSET_NAMES[(c + s) % len(ADSET_NAMES)]} | {campaign.name.split(' |')[0]}",
                campaign=campaign,
                weight=rng.uniform(0.5, 1.5),
            )
            for a in range(rng.randint(2, 3)):
                # Ad 0 runs the whole campaign; later creatives rotate in and out.
                ad_start = start if a == 0 else start + timedelta(days=rng.randint(0, 120))
                ad_stop = (
                    None
                    if a == 0 or rng.random() < 0.4
                    else ad_start + timedelta(days=rng.randint(20, 200))
                )
                ads.append(
                    Ad(
                        id=object_id(number, 3, (c * 10 + s) * 10 + a),
                        name=f"{CREATIVES[(c + s + a) % len(CREATIVES)]} #{a + 1} | {adset.name}",
                        adset=adset,
                        start=ad_start,
                        stop=ad_stop,
                        weight=rng.uniform(0.5, 1.5),
                        ctr=rng.uniform(0.007, 0.028),
                    )
                )
    return Account(
        id=shop.meta_ad_account_id,
        number=number,
        shop_id=shop.shop_id,
        name=f"{shop.name} – Ads",
        currency=shop.currency,
        timezone=shop.timezone,
        aov=aov,
        ads=tuple(ads),
        created=history_start - timedelta(days=rng.randint(30, 400)),
    )
