"""Insights rows as Meta returns them: grouped by level and time bucket, only the requested fields,
every number a trimmed decimal string ("5339.5", "120", "1.435": no trailing zeros),
`actions`/`action_values` as lists of {action_type, value, <window>...} over many action types
(the funnel under several names, plus engagement, saves, messaging), and reach de-duplicated at
the row's own grain.

Rows are positioned (`bucket * 1000 + index in bucket`) so a cursor can seek straight to a page
without regenerating the days before it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

from sandbox.meta.delivery import ATC, CHECKOUT, PURCHASE, Delivery
from sandbox.meta.generate import rows
from sandbox.meta.params import IDENTITY_FIELDS, InsightsQuery
from sandbox.meta.structure import Account, Ad

Entry = tuple[int, dict[str, Any]]
STRIDE = 1000

# (action_type, conversion kind, onsite filter): one funnel step reported under several names,
# each a view of the same events (website = pixel; onsite = bought in a Meta shop), never to be
# added together. The engagement actions have no values.
CONVERSIONS: tuple[tuple[str, int, bool | None], ...] = (
    ("add_to_cart", ATC, None),
    ("offsite_conversion.fb_pixel_add_to_cart", ATC, False),
    ("onsite_web_add_to_cart", ATC, False),
    ("onsite_web_app_add_to_cart", ATC, False),
    ("omni_add_to_cart", ATC, None),
    ("initiate_checkout", CHECKOUT, None),
    ("offsite_conversion.fb_pixel_initiate_checkout", CHECKOUT, False),
    ("onsite_web_initiate_checkout", CHECKOUT, False),
    ("omni_initiated_checkout", CHECKOUT, None),
    ("purchase", PURCHASE, None),
    ("offsite_conversion.fb_pixel_purchase", PURCHASE, False),
    ("onsite_web_purchase", PURCHASE, False),
    ("onsite_web_app_purchase", PURCHASE, False),
    ("onsite_conversion.purchase", PURCHASE, True),
    ("omni_purchase", PURCHASE, None),
)
ENGAGEMENT: tuple[tuple[str, Callable[[Delivery], int]], ...] = (
    ("link_click", lambda d: d.link_clicks),
    ("landing_page_view", lambda d: d.landing_page_views),
    ("post_engagement", lambda d: d.post_engagement),
    ("page_engagement", lambda d: d.post_engagement),
    *(
        (name, lambda d, name=name: d.extra.get(name, 0))
        for name in (
            "video_view",
            "view_content",
            "omni_view_content",
            "offsite_conversion.fb_pixel_view_content",
            "onsite_conversion.post_save",
            "onsite_conversion.messaging_conversation_started_7d",
        )
    ),
)


def num(value: Decimal | int | float) -> str:
    """A number as Meta writes it in insights: a decimal string without trailing zeros."""
    text = format(value if isinstance(value, Decimal) else Decimal(str(value)), "f")
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return text or "0"


def buckets(query: InsightsQuery) -> list[tuple[date, date]]:
    if query.increment == "all_days":
        return [(query.since, query.until)] if query.days else []
    out = []
    start = query.since
    while start <= query.until:
        if query.increment == "monthly":
            nxt = (start.replace(day=1) + timedelta(days=32)).replace(day=1)
        else:
            nxt = start + timedelta(days=int(query.increment))
        out.append((start, min(query.until, nxt - timedelta(days=1))))
        start = nxt
    return out


def entries(
    account: Account, seed: int, query: InsightsQuery, as_of: datetime, after: int = -1
) -> Iterator[Entry]:
    """Positioned rows strictly after `after`, generated one time bucket at a time."""
    for b, (start, stop) in enumerate(buckets(query)):
        if (b + 1) * STRIDE <= after + 1:
            continue
        groups: dict[str, tuple[Ad, Delivery]] = {}
        for row in rows(account, seed, start, stop, as_of):
            key = _key(row.ad, query.level)
            if key not in groups:
                groups[key] = (row.ad, Delivery())
            groups[key][1].add(row.delivery)
        for i, key in enumerate(sorted(groups)):
            position = b * STRIDE + i
            if position > after:
                ad, delivery = groups[key]
                yield position, render(account, ad, delivery, start, stop, query)


def _key(ad: Ad, level: str) -> str:
    if level == "ad":
        return ad.id
    if level == "adset":
        return ad.adset.id
    return ad.adset.campaign.id if level == "campaign" else ""


def render(
    account: Account, ad: Ad, d: Delivery, start: date, stop: date, query: InsightsQuery
) -> dict[str, Any]:
    campaign, adset, level = ad.adset.campaign, ad.adset, query.level
    identity: dict[str, Any] = {
        "account_id": account.number,
        "account_name": account.name,
        "account_currency": account.currency,
    }
    if level != "account":
        identity |= {"campaign_id": campaign.id, "campaign_name": campaign.name,
                     "objective": campaign.objective, "buying_type": "AUCTION"}  # fmt: skip
    if level in ("ad", "adset"):
        identity |= {"adset_id": adset.id, "adset_name": adset.name,
                     "optimization_goal": "OFFSITE_CONVERSIONS",
                     "attribution_setting": "7d_click_1d_view"}  # fmt: skip
    if level == "ad":
        identity |= {"ad_id": ad.id, "ad_name": ad.name}
    out: dict[str, Any] = {}
    for name in query.fields:
        if name in ("date_start", "date_stop"):
            continue
        if name in identity:
            out[name] = identity[name]
        elif name in IDENTITY_FIELDS:
            continue  # e.g. ad_id at campaign level: Meta leaves it out
        else:
            value = _metric(name, d, query.windows, account)
            if value is not None:
                out[name] = value
    # Meta always appends the row's dates, requested or not.
    out["date_start"] = start.isoformat()
    out["date_stop"] = stop.isoformat()
    return out


def _ratio(top: Decimal | int, den: Decimal | int, scale: int = 1) -> str | None:
    if not den:
        return None
    return num(Decimal(f"{float(top) * scale / float(den):.6f}"))


def _metric(name: str, d: Delivery, windows: tuple[str, ...], account: Account) -> Any:
    people = d.people(account.audience) if name in ("reach", "frequency", "cpp") else 0
    simple: dict[str, Any] = {
        "spend": num(d.spend),
        "impressions": str(d.impressions),
        "clicks": str(d.clicks),
        "reach": str(people),
        "inline_link_clicks": str(d.link_clicks),
    }
    if name in simple:
        return simple[name]
    ratios: dict[str, tuple[Decimal | int, Decimal | int, int]] = {
        "frequency": (d.impressions, people, 1),
        "cpc": (d.spend, d.clicks, 1),
        "cpm": (d.spend, d.impressions, 1000),
        "ctr": (d.clicks, d.impressions, 100),
        "cpp": (d.spend, people, 1000),
        "inline_link_click_ctr": (d.link_clicks, d.impressions, 100),
    }
    if name in ratios:
        top, den, scale = ratios[name]
        return _ratio(top, den, scale)
    if name == "actions":
        return _actions(d, windows) or None
    if name == "action_values":
        return _action_values(d, windows) or None
    if name == "cost_per_action_type":
        costs = [
            {"action_type": e["action_type"], "value": _ratio(d.spend, int(e["value"]))}
            for e in _actions(d, ())
            if int(e["value"])
        ]
        return costs or None
    roas_type = {"purchase_roas": "omni_purchase",
                 "website_purchase_roas": "offsite_conversion.fb_pixel_purchase"}[name]  # fmt: skip
    value = next((e for e in _action_values(d, ()) if e["action_type"] == roas_type), None)
    if value is None or not d.spend:
        return None
    return [{"action_type": roas_type, "value": _ratio(Decimal(value["value"]), d.spend)}]


def _actions(d: Delivery, windows: tuple[str, ...]) -> list[dict[str, str]]:
    out = []
    for action_type, getter in ENGAGEMENT:
        n = getter(d)
        if n:
            entry = {"action_type": action_type, "value": str(n)}
            entry |= {w: str(n) for w in windows if w.endswith("_click")}
            out.append(entry)
    for action_type, kind, onsite in CONVERSIONS:
        counts = {w: d.count(kind, w, onsite) for w in ("value", *windows)}
        if any(counts.values()):
            out.append({"action_type": action_type} | {w: str(n) for w, n in counts.items()
                                                       if n or w == "value"})  # fmt: skip
    return out


def _action_values(d: Delivery, windows: tuple[str, ...]) -> list[dict[str, str]]:
    out = []
    for action_type, kind, onsite in CONVERSIONS:
        values = {w: d.value(kind, w, onsite) for w in ("value", *windows)}
        if any(values.values()):
            out.append({"action_type": action_type} | {w: num(v) for w, v in values.items()
                                                       if v or w == "value"})  # fmt: skip
    return out
