"""Metrics response shapes. Money stays Decimal (JSON strings, never floats); `from` is a Python
keyword, hence msgspec Structs whose field is renamed on the wire."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any

import asyncpg
import msgspec


def _decimals(value: Any) -> dict[str, Decimal] | None:
    """A jsonb object of decimal strings (the SQL keeps them exact) → {key: Decimal}."""
    if value is None:
        return None
    return {str(k): Decimal(str(v)) for k, v in value.items()}


class Pipeline(msgspec.Struct, frozen=True, kw_only=True):
    """HubSpot (docs/metrics.md): the open pipeline now, and deals over the range by their
    shop-local days. Money in the shop's currency (deals HubSpot converted to it included);
    deals in a currency that cannot be are counted in the `*_other_currency_deals` flags."""

    open_deals: int
    open_amount: Decimal
    weighted_open_amount: Decimal  # Σ amount x the stage's probability
    open_by_stage: dict[str, Decimal]
    weighted_by_stage: dict[str, Decimal]
    open_other_currency_deals: int
    deals_created: int
    deals_won: int
    deals_lost: int
    won_amount: Decimal | None
    won_other_currency_deals: int
    win_rate: Decimal | None  # won / (won + lost) over the range; None when none closed

    @classmethod
    def from_row(cls, row: asyncpg.Record) -> Pipeline:
        return cls(
            open_deals=row["open_deals"] or 0,
            open_amount=row["open_amount"] or Decimal(0),
            weighted_open_amount=row["weighted_open_amount"] or Decimal(0),
            open_by_stage=_decimals(row["open_by_stage"]) or {},
            weighted_by_stage=_decimals(row["weighted_by_stage"]) or {},
            open_other_currency_deals=row["open_other_currency_deals"] or 0,
            deals_created=row["deals_created"],
            deals_won=row["deals_won"],
            deals_lost=row["deals_lost"],
            won_amount=row["won_amount"],
            won_other_currency_deals=row["won_other_currency_deals"],
            win_rate=row["win_rate"],
        )


class Revenue(msgspec.Struct, frozen=True, kw_only=True):
    """The sales-report figures a range and a day both carry (docs/shopify-sales-report.md)."""

    orders: int
    gross_sales: Decimal
    discounts: Decimal
    returns: Decimal
    net_sales: Decimal
    shipping: Decimal
    taxes: Decimal
    duties: Decimal
    additional_fees: Decimal
    # Restocking and return shipping fees kept on returns (rule 14): part of total sales.
    return_fees: Decimal
    total_sales: Decimal
    aov: Decimal | None

    @staticmethod
    def figures(row: asyncpg.Record) -> dict[str, Any]:
        """The row's values of these fields, for a subclass's constructor."""
        return {name: row[name] for name in Revenue.__struct_fields__}


class DayCheck(msgspec.Struct, frozen=True, kw_only=True):
    """One order-level day against Shopify's own report (docs/shopify-sales-report.md)."""

    agrees: bool
    # Shopify minus Storeline for every metric that differs (empty when they agree).
    differences: dict[str, Decimal]


class ShopifyReport(msgspec.Struct, frozen=True, kw_only=True):
    """The shop's latest reconciliation with Shopify's own report, and over the range how many
    days agree, disagree, and are still provisional (Shopify's figures, backfill pending)."""

    status: str  # checked | not_verified | failed | pending (never checked)
    reason: str | None
    checked_at: datetime | None
    days_agreeing: int
    days_disagreeing: int
    provisional_days: int

    @classmethod
    def from_row(cls, row: asyncpg.Record) -> ShopifyReport:
        return cls(
            status=row["report_status"],
            reason=row["report_reason"],
            checked_at=row["report_checked_at"],
            days_agreeing=row["report_days_agreeing"],
            days_disagreeing=row["report_days_disagreeing"],
            provisional_days=row["provisional_days"],
        )


class Kpis(Revenue, frozen=True, kw_only=True):
    ad_spend: Decimal | None
    mer: Decimal | None
    roas: dict[str, Decimal] | None
    sessions: int | None
    # GA4 users are de-duplicated over the range asked and never summed: a one-day range's, or
    # GA4's count over exactly this range when the connector asked for it (the last 7 or 30
    # days ending today, a calendar month, month to date); else None (see the days' own counts).
    users: int | None
    avg_daily_users: Decimal | None
    new_users: int | None
    engagement_rate: Decimal | None
    conversion_rate: Decimal | None
    revenue_per_session: Decimal | None
    # False when the GA4 property's days are in another timezone than the shop's.
    traffic_timezone_matches_shop: bool | None
    pipeline: Pipeline | None

    @classmethod
    def from_row(cls, row: asyncpg.Record) -> Kpis:
        pipeline = None
        if row["open_by_stage"] is not None or row["won_amount"] is not None:
            pipeline = Pipeline.from_row(row)
        return cls(
            **Revenue.figures(row),
            ad_spend=row["ad_spend"],
            mer=row["mer"],
            roas=_decimals(row["roas"]),
            sessions=row["sessions"],
            users=row["users"],
            avg_daily_users=row["avg_daily_users"],
            new_users=row["new_users"],
            engagement_rate=row["engagement_rate"],
            conversion_rate=row["conversion_rate"],
            revenue_per_session=row["revenue_per_session"],
            traffic_timezone_matches_shop=row["traffic_timezone_matches_shop"],
            pipeline=pipeline,
        )


class DayTraffic(msgspec.Struct, frozen=True, kw_only=True):
    """GA4's totals for one day: `users` is the day's own de-duplicated count (a range's users
    are not the sum of these; Kpis.users says when a range's exact count is known)."""

    sessions: int
    users: int
    new_users: int
    engagement_rate: Decimal | None
    conversion_rate: Decimal | None


class Day(Revenue, frozen=True, kw_only=True):
    day: date
    # Shopify's own figure for a day the order-level backfill has not covered yet.
    provisional: bool
    # None: not verified (no figure read from Shopify for the day, no read_reports scope,
    # provisional, or our figure changed since Shopify's was read).
    shopify_report: DayCheck | None
    traffic: DayTraffic | None = None

    @classmethod
    def from_row(cls, row: asyncpg.Record) -> Day:
        check = None
        if row["report_agrees"] is not None:
            check = DayCheck(
                agrees=row["report_agrees"],
                differences=_decimals(row["report_differences"]) or {},
            )
        traffic = None
        if row["traffic_sessions"] is not None:
            traffic = DayTraffic(
                sessions=row["traffic_sessions"],
                users=row["traffic_users"],
                new_users=row["traffic_new_users"],
                engagement_rate=row["traffic_engagement_rate"],
                conversion_rate=row["traffic_conversion_rate"],
            )
        return cls(
            day=row["day"],
            provisional=row["provisional"],
            shopify_report=check,
            traffic=traffic,
            **Revenue.figures(row),
        )


class RecentOrder(msgspec.Struct, frozen=True, kw_only=True):
    id: int
    name: str | None
    processed_at: datetime
    day: date
    total: Decimal | None
    current_total: Decimal | None
    financial_status: str | None
    fulfillment_status: str | None
    cancelled: bool

    @classmethod
    def from_row(cls, row: asyncpg.Record) -> RecentOrder:
        return cls(**dict(row.items()))


class Campaign(msgspec.Struct, frozen=True, kw_only=True):
    platform: str
    campaign_id: str
    campaign_name: str | None
    spend: Decimal
    purchase_value: Decimal | None
    roas: Decimal | None

    @classmethod
    def from_row(cls, row: asyncpg.Record) -> Campaign:
        return cls(**dict(row.items()))


class AdAccount(msgspec.Struct, frozen=True, kw_only=True):
    """An ad account as the last sync saw it: one in another currency than the shop's is left
    out of spend, MER and ROAS (never summed); one in another timezone counts its own days."""

    platform: str
    account_id: str
    currency: str
    timezone: str | None
    currency_matches_shop: bool
    timezone_matches_shop: bool | None

    @classmethod
    def from_row(cls, row: asyncpg.Record) -> AdAccount:
        return cls(**dict(row.items()))


class Freshness(msgspec.Struct, frozen=True, kw_only=True):
    credential_status: str
    last_success_at: datetime | None
    stale_minutes: int | None

    @classmethod
    def from_row(cls, row: asyncpg.Record) -> Freshness:
        return cls(
            credential_status=row["credential_status"],
            last_success_at=row["last_success_at"],
            stale_minutes=row["stale_minutes"],
        )


class ShopMetrics(msgspec.Struct, frozen=True, kw_only=True):
    shop_id: str
    currency: str
    timezone: str
    from_: date = msgspec.field(name="from")
    to: date
    kpis: Kpis
    shopify_report: ShopifyReport
    daily: list[Day]
    recent_orders: list[RecentOrder]
    top_campaigns: list[Campaign]
    ad_accounts: list[AdAccount]
    freshness: dict[str, Freshness]


class Staleness(msgspec.Struct, frozen=True, kw_only=True):
    """Worst lag over the shop's connected platforms, and those past the threshold (15 min) or
    never synced: a platform without a success has no data at all."""

    max_stale_minutes: int | None
    stale_platforms: list[str]


class ShopSummary(msgspec.Struct, frozen=True, kw_only=True):
    """One shop in the side-by-side view; its range is its own (default ends at its today)."""

    id: str
    name: str
    currency: str
    timezone: str
    from_: date = msgspec.field(name="from")
    to: date
    kpis: Kpis
    shopify_report: ShopifyReport
    staleness: Staleness


class ShopsMetrics(msgspec.Struct, frozen=True, kw_only=True):
    shops: list[ShopSummary]
