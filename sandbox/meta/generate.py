"""Per-ad daily delivery and conversions, and what of it is visible at a given sandbox time.

Each (ad, account-local day) has a *final* delivery (spend, impressions, reach, clicks) and a list
of conversion events (add to cart, checkout, purchase), all drawn from a Random keyed by strings.
The sandbox clock only decides visibility, which is what makes incremental syncs honest:
- the current local day accrues delivery linearly as the day passes;
- an event counts once its click/impression time + attribution delay + processing lag has passed,
  so conversions of the last days are restated (rise) as the clock advances — within 7 days for
  the default 7d_click/1d_view attribution, within 28 days for `28d_click`.
Rows come out in (day, ad id) order, one day at a time, so memory stays flat for any range.
"""

from __future__ import annotations

import functools
import math
import random
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from decimal import ROUND_DOWN, Decimal
from zoneinfo import ZoneInfo

from sandbox.meta.delivery import ATC, CHECKOUT, PURCHASE, Delivery
from sandbox.meta.structure import Account, Ad

DAY = 86_400
# Weekday (Mon..Sun) and month multipliers on spend: weekends and Q4 run hotter.
WEEKDAY = (0.95, 0.97, 1.0, 1.0, 1.02, 1.08, 1.05)
MONTH = (0.85, 0.88, 0.95, 0.97, 1.0, 0.98, 0.96, 0.98, 1.0, 1.05, 1.3, 1.2)


@dataclass(frozen=True)
class Conversion:
    kind: int  # ATC, CHECKOUT, PURCHASE
    view: bool  # view-through (1d_view) rather than click-through
    at: float  # click/impression time as a fraction of the local day
    delay: int  # seconds from click/impression to the conversion
    lag: int  # seconds of processing before Meta reports it
    value: Decimal
    onsite: bool  # bought in a Meta shop (counts in omni_purchase, not the pixel)

    @property
    def engaged(self) -> bool:
        """A view-through conversion after an engaged view (video watched): counts in 1d_ev.
        Derived from the draw already made, so adding 1d_ev changed no other number."""
        return self.view and int(self.at * 1_000_000) % 4 == 0


@dataclass(frozen=True)
class AdDay:
    """The final (end-of-attribution) facts of one ad on one local day."""

    ad: Ad
    day: date
    spend: Decimal
    impressions: int
    reach: int
    clicks: int
    link_clicks: int
    landing_page_views: int
    post_engagement: int
    conversions: tuple[Conversion, ...]


@dataclass(frozen=True)
class Row:
    ad: Ad
    day: date
    delivery: Delivery


def local_today(account: Account, now: datetime) -> date:
    return now.astimezone(ZoneInfo(account.timezone)).date()


def day_bounds(account: Account, day: date) -> tuple[datetime, datetime]:
    """UTC start and end of an account-local day (23 or 25 hours long across DST changes)."""
    tz = ZoneInfo(account.timezone)
    start = datetime.combine(day, time(0), tzinfo=tz).astimezone(UTC)
    end = datetime.combine(day + timedelta(days=1), time(0), tzinfo=tz).astimezone(UTC)
    return start, end


def rows(account: Account, seed: int, since: date, until: date, as_of: datetime) -> Iterator[Row]:
    """Visible ad-day rows with delivery, in (day, ad id) order, between since and until."""
    day = since
    last = min(until, local_today(account, as_of))
    while day <= last:
        yield from day_rows(account, seed, day, as_of)
        day += timedelta(days=1)


def day_rows(account: Account, seed: int, day: date, as_of: datetime) -> list[Row]:
    start, end = day_bounds(account, day)
    if as_of <= start:
        return []
    out = []
    for final in full_day(account, seed, day):
        delivery = visible(final, start, end, as_of)
        if delivery is not None:
            out.append(Row(final.ad, day, delivery))
    return out


@functools.lru_cache(maxsize=256)
def full_day(account: Account, seed: int, day: date) -> tuple[AdDay, ...]:
    """Every ad's final facts for one day; a small cache serves the trailing windows that
    incremental syncs and the oracle re-read (a day of a big account is ~100 kB)."""
    active = [ad for ad in account.ads if ad.runs_on(day)]
    # A campaign's budget splits over its delivering ad sets, an ad set's over its ads.
    adset_weights: dict[str, dict[str, float]] = {}
    ad_weights: dict[str, float] = {}
    for ad in active:
        adset_weights.setdefault(ad.adset.campaign.id, {})[ad.adset.id] = ad.adset.weight
        ad_weights[ad.adset.id] = ad_weights.get(ad.adset.id, 0.0) + ad.weight
    out = []
    for ad in active:
        in_campaign = adset_weights[ad.adset.campaign.id]
        share = ad.adset.weight / sum(in_campaign.values()) * ad.weight / ad_weights[ad.adset.id]
        final = _ad_day(account, seed, ad, day, share)
        if final is not None:
            out.append(final)
    return tuple(out)


def _ad_day(account: Account, seed: int, ad: Ad, day: date, share: float) -> AdDay | None:
    rng = random.Random(f"{seed}:{account.shop_id}:meta:{ad.id}:{day.isoformat()}")
    campaign = ad.adset.campaign
    factor = WEEKDAY[day.weekday()] * MONTH[day.month - 1] * math.exp(rng.gauss(0, 0.18))
    if campaign.start == day:  # learning phase: the first day spends less
        factor *= 0.5
    spend = (campaign.daily_budget * Decimal(str(share * factor))).quantize(account.money_quantum)
    if spend <= 0:
        return None
    unit = float(spend) / (100 if account.money_quantum == 1 else 1)
    impressions = int(unit / (campaign.cpm * math.exp(rng.gauss(0, 0.12))) * 1000)
    if impressions <= 0:
        return None
    reach = max(1, int(impressions / rng.uniform(1.05, 1.6)))
    clicks = _draw(rng, impressions * ad.ctr)
    link_clicks = _draw(rng, clicks * rng.uniform(0.6, 0.8))
    lpv = _draw(rng, link_clicks * rng.uniform(0.7, 0.9))
    engagement = clicks + _draw(rng, impressions * 0.004)
    purchases = _draw(rng, float(spend) * campaign.roas / float(account.aov))
    events: list[Conversion] = []
    for kind, n in (
        (ATC, purchases * 3 + _draw(rng, lpv * 0.05)),
        (CHECKOUT, purchases + _draw(rng, purchases * 0.8 + lpv * 0.01)),
        (PURCHASE, purchases),
    ):
        for _ in range(n):
            events.append(_conversion(rng, account, kind))
    return AdDay(
        ad, day, spend, impressions, reach, clicks, link_clicks, lpv, engagement, tuple(events)
    )


def _draw(rng: random.Random, mean: float) -> int:
    """An integer with the given mean: the floor plus a Bernoulli draw on the fraction."""
    whole = int(mean)
    return whole + (1 if rng.random() < mean - whole else 0)


def _conversion(rng: random.Random, account: Account, kind: int) -> Conversion:
    view = rng.random() < 0.18
    u = rng.random()
    if view:
        delay = int(rng.uniform(0, DAY))
    elif u < 0.6:
        delay = int(rng.uniform(0, 2 * 3600))
    elif u < 0.85:
        delay = int(rng.uniform(2 * 3600, DAY))
    elif u < 0.95:
        delay = int(rng.uniform(DAY, 7 * DAY))
    else:
        delay = int(rng.uniform(7 * DAY, 28 * DAY))
    base = float(account.aov) * math.exp(rng.gauss(0, 0.35))
    if kind != PURCHASE:
        base *= 0.8
    value = Decimal(str(base)).quantize(account.money_quantum)
    return Conversion(
        kind=kind,
        view=view,
        at=rng.random(),
        delay=delay,
        lag=int(rng.uniform(900, 3 * 3600)),
        value=value,
        onsite=kind == PURCHASE and rng.random() < 0.06,
    )


def extra_actions(d: Delivery) -> dict[str, int]:
    """Actions beyond the funnel that real rows carry (video views, saves, messaging, content
    views), derived from one ad-day's delivery so they stay additive across levels."""
    counts = {
        "video_view": d.impressions // 9,
        "view_content": d.landing_page_views + d.landing_page_views // 4,
        "onsite_conversion.post_save": d.post_engagement // 12,
        "onsite_conversion.messaging_conversation_started_7d": d.link_clicks // 40,
    }
    counts["omni_view_content"] = counts["view_content"]
    counts["offsite_conversion.fb_pixel_view_content"] = counts["view_content"]
    return {k: n for k, n in counts.items() if n}


def window_of(conv: Conversion) -> str:
    """The narrowest attribution window the conversion falls in (windows nest: see WINDOWS)."""
    if conv.view:
        return "e1" if conv.engaged else "v1"
    if conv.delay <= DAY:
        return "c1"
    return "c7" if conv.delay <= 7 * DAY else "c28"


def visible(final: AdDay, start: datetime, end: datetime, as_of: datetime) -> Delivery | None:
    """The part of an ad-day Meta would report at `as_of` (None when nothing delivered yet)."""
    length = (end - start).total_seconds()
    elapsed = min(1.0, (as_of - start).total_seconds() / length)
    if elapsed <= 0:
        return None
    if elapsed >= 1.0:
        d = Delivery(
            spend=final.spend,
            impressions=final.impressions,
            clicks=final.clicks,
            link_clicks=final.link_clicks,
            landing_page_views=final.landing_page_views,
            post_engagement=final.post_engagement,
        )
        people = final.reach
    else:
        quantum = final.spend.as_tuple().exponent
        d = Delivery(
            spend=(final.spend * Decimal(str(elapsed))).quantize(
                Decimal(1).scaleb(int(quantum)), rounding=ROUND_DOWN
            ),
            impressions=int(final.impressions * elapsed),
            clicks=int(final.clicks * elapsed),
            link_clicks=int(final.link_clicks * elapsed),
            landing_page_views=int(final.landing_page_views * elapsed),
            post_engagement=int(final.post_engagement * elapsed),
        )
        people = int(final.reach * elapsed)
    if d.impressions <= 0:
        return None
    campaign = final.ad.adset.campaign
    d.reached(campaign.id, campaign.audience, max(1, people))
    d.extra = extra_actions(d)
    for conv in final.conversions:
        if conv.at > elapsed:
            continue
        seen = start + timedelta(seconds=conv.at * length + conv.delay + conv.lag)
        if seen > as_of:
            continue
        slot = d.conv.setdefault((conv.kind, window_of(conv), conv.onsite), [0, Decimal(0)])
        slot[0] += 1
        slot[1] += conv.value
    return d
