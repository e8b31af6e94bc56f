"""Order.customerJourneySummary: the first and last visit before a web order, with UTM tags."""

from __future__ import annotations

import random
from datetime import timedelta

from sandbox.shopify.days import Stub
from sandbox.shopify.model import CustomerJourney, Visit
from sandbox.shopify.mutations import Fate

# (source, MarketingTactic, referrer, utm_source, utm_medium, utm_campaign)
_CHANNELS: tuple[tuple[str, str | None, str | None, str | None, str | None, str | None], ...] = (
    ("google", "AD", "https://www.google.com/", "google", "cpc", "brand_search"),
    ("facebook", "AD", "https://l.facebook.com/", "facebook", "paid_social", "prospecting"),
    ("instagram", "AD", "https://l.instagram.com/", "instagram", "paid_social", "retargeting"),
    ("newsletter", "NEWSLETTER", None, "klaviyo", "email", "weekly_digest"),
    ("google", "SEO", "https://www.google.com/", None, None, None),
    ("direct", None, None, None, None, None),
)
_PAGES = ("/", "/collections/all", "/products/bestseller", "/pages/sale")


def _visit(visit_id: int, channel: int, page: int, at_offset: timedelta, stub: Stub) -> Visit:
    source, tactic, referrer, utm_source, utm_medium, utm_campaign = _CHANNELS[channel]
    return Visit(
        id=visit_id,
        occurred_at=stub.created_at - at_offset,
        source=source,
        source_type=tactic,
        landing_page=_PAGES[page],
        referrer_url=referrer,
        utm_source=utm_source,
        utm_medium=utm_medium,
        utm_campaign=utm_campaign,
    )


def journey_for(rng: random.Random, oid: int, stub: Stub, fate: Fate) -> CustomerJourney | None:
    """Web orders mostly have a journey; POS, draft and imported orders never do."""
    roll = rng.random()
    first, last = rng.randrange(len(_CHANNELS)), rng.randrange(len(_CHANNELS))
    first_page, last_page = rng.randrange(len(_PAGES)), rng.randrange(len(_PAGES))
    days = min(int(rng.expovariate(0.4)), 30)
    minutes = rng.randrange(2, 90)
    if fate.source_name != "web" or roll > 0.85:
        return None
    first_offset = timedelta(days=days, minutes=minutes + 30)
    return CustomerJourney(
        customer_order_index=stub.customer_order_index - 1,  # 0 for a first order
        days_to_conversion=days,
        first_visit=_visit(oid * 100 + 95, first, first_page, first_offset, stub),
        last_visit=_visit(oid * 100 + 96, last, last_page, timedelta(minutes=minutes), stub),
    )
