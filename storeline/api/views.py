"""Response shapes shared by several routes (money stays Decimal: JSON strings, never floats)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID

import asyncpg


@dataclass(frozen=True)
class LastJob:
    id: int
    type: str
    status: str
    attempts: int
    records_synced: int
    progress: dict[str, Any]
    error: dict[str, Any] | None
    created_at: datetime
    started_at: datetime | None
    completed_at: datetime | None


@dataclass(frozen=True)
class PlatformStatus:
    platform: str
    credential_status: str
    status_reason: str | None
    account: dict[str, Any]
    connected_at: datetime
    last_success_at: datetime | None
    stale_minutes: int | None
    last_job: LastJob | None

    @classmethod
    def from_row(cls, row: asyncpg.Record) -> PlatformStatus:
        job = None
        if row["job_id"] is not None:
            job = LastJob(
                id=row["job_id"],
                type=row["job_type"],
                status=row["job_status"],
                attempts=row["attempts"],
                records_synced=row["records_synced"],
                progress=row["progress"],
                error=row["error"],
                created_at=row["job_created_at"],
                started_at=row["started_at"],
                completed_at=row["completed_at"],
            )
        return cls(
            platform=row["platform"],
            credential_status=row["credential_status"],
            status_reason=row["status_reason"],
            account=row["account"],
            connected_at=row["connected_at"],
            last_success_at=row["last_success_at"],
            stale_minutes=row["stale_minutes"],
            last_job=job,
        )


@dataclass(frozen=True)
class Shop:
    id: str
    name: str
    currency: str
    timezone: str
    agency_id: UUID
    is_default: bool
    created_at: datetime
    platforms: list[PlatformStatus] | None = None

    @classmethod
    def from_row(cls, row: asyncpg.Record, platforms: list[PlatformStatus] | None = None) -> Shop:
        return cls(
            id=row["id"],
            name=row["name"],
            currency=row["currency"],
            timezone=row["timezone"],
            agency_id=row["agency_id"],
            is_default=row["is_default"],
            created_at=row["created_at"],
            platforms=platforms,
        )
