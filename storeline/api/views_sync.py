"""Response shapes of the platform, sync and profile routes (views.py holds the shared ones)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any
from uuid import UUID

import asyncpg

from storeline.api.views import PlatformStatus


@dataclass(frozen=True)
class Connected:
    """A platform just connected: its state and the HISTORICAL_INIT job that will fill it."""

    shop_id: str
    job_id: int
    platform: PlatformStatus


@dataclass(frozen=True)
class RequestedJob:
    platform: str
    job_id: int
    job_type: str
    status: str
    # True: the request joined a job that was already waiting (and upgraded it if stronger).
    already_queued: bool
    upgraded: bool = False


@dataclass(frozen=True)
class RequestedJobs:
    jobs: list[RequestedJob]


@dataclass(frozen=True)
class RecentJob:
    id: int
    platform: str
    job_type: str
    status: str
    attempts: int
    records_synced: int
    error: dict[str, Any] | None
    cancel_requested: bool
    created_at: datetime
    started_at: datetime | None
    completed_at: datetime | None

    @classmethod
    def from_row(cls, row: asyncpg.Record) -> RecentJob:
        return cls(**dict(row))


@dataclass(frozen=True)
class Disagreement:
    """A day on which Shopify's own report and the product's figures differ."""

    day: date
    # Shopify minus Storeline for every metric that differs.
    differences: dict[str, Decimal]
    checked_at: datetime

    @classmethod
    def from_row(cls, row: asyncpg.Record) -> Disagreement:
        differences = {str(k): Decimal(str(v)) for k, v in row["differences"].items()}
        return cls(day=row["day"], differences=differences, checked_at=row["fetched_at"])


@dataclass(frozen=True)
class ShopifyReportStatus:
    """The latest reconciliation with Shopify's own report (docs/shopify-sales-report.md):
    `checked`, `not_verified` (the token lacks read_reports), `failed` (the sync itself
    succeeded; `reason` says why) or `pending` (never checked). Day counts cover every day
    Shopify's figure was read for; `provisional_days` are still Shopify's figures only."""

    status: str
    reason: str | None
    checked_at: datetime | None
    job_id: int | None
    first_day: date | None
    last_day: date | None
    days_agreeing: int
    days_disagreeing: int
    provisional_days: int
    disagreements: list[Disagreement]  # the latest days that differ, newest first

    @classmethod
    def from_rows(
        cls, row: asyncpg.Record, disagreements: list[asyncpg.Record]
    ) -> ShopifyReportStatus:
        return cls(**dict(row), disagreements=[Disagreement.from_row(d) for d in disagreements])


@dataclass(frozen=True)
class SyncStatus:
    shop_id: str
    platforms: list[PlatformStatus]
    recent_jobs: list[RecentJob]
    # None when Shopify is not connected.
    shopify_report: ShopifyReportStatus | None


@dataclass(frozen=True)
class CancelRequested:
    job_id: int
    status: str
    cancel_requested: bool


@dataclass(frozen=True)
class Me:
    id: UUID
    email: str
    role: str
    agency_id: UUID | None
    agency_name: str | None
    subscription_status: str | None
    default_shop: str | None

    @classmethod
    def from_row(cls, row: asyncpg.Record) -> Me:
        return cls(**dict(row))
