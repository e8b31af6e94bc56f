"""Response shapes of the platform, sync and profile routes (views.py holds the shared ones)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
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
class SyncStatus:
    shop_id: str
    platforms: list[PlatformStatus]
    recent_jobs: list[RecentJob]


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
