"""Requesting, watching and cancelling a shop's syncs.

Requests and cancels go through storeline_private.api_request_sync / api_request_cancel
(95_role_matrix.sql), which hold the role matrix of docs/security.md: any member may request an
INCREMENTAL, owners and staff a rebuild; a store user cancels only the jobs they requested.
Requests are idempotent per (shop, platform): a second request joins the job already waiting.
Joining never weakens a job and never loses a stronger request: HISTORICAL_REBUILD asked while an
INCREMENTAL (or HISTORICAL_INIT) waits upgrades that job in place.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Annotated, Literal

import asyncpg
from litestar import Controller, get, post
from litestar.exceptions import HTTPException, NotFoundException
from litestar.params import JSONBody, Parameter
from pydantic import BaseModel, ConfigDict, Field, field_validator

from storeline.api.database import UserDb
from storeline.api.openapi import problems
from storeline.api.routes.platforms import PlatformWord, platform_named
from storeline.api.routes.shops import ShopId
from storeline.api.views import PlatformStatus
from storeline.api.views_sync import (
    CancelRequested,
    RecentJob,
    RequestedJob,
    RequestedJobs,
    ShopifyReportStatus,
    SyncStatus,
)
from storeline.core.enums import CredentialStatus, Platform
from storeline.core.sql import queries

SQL = queries("app_dashboard")
REPORTING = queries("reporting")
RECENT_JOBS = 20
DISAGREEMENTS = 31  # the latest days on which Shopify's report and ours differ


class SyncRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    platforms: list[PlatformWord] | None = Field(
        default=None,
        description="default: every connected platform whose credential is OK",
    )
    job_type: Literal["INCREMENTAL", "HISTORICAL_REBUILD"] = "INCREMENTAL"

    @field_validator("platforms")
    @classmethod
    def _known(cls, value: list[str] | None) -> list[str] | None:
        if value is None:
            return None
        names = [platform_named(v).value for v in value]
        return list(dict.fromkeys(names))


async def _require_shop(db: asyncpg.Connection, shop_id: str) -> None:
    if await db.fetchrow(SQL["get_shop"], shop_id) is None:
        raise NotFoundException(f"no shop {shop_id!r} for this user")


def _conflict(detail: str) -> HTTPException:
    return HTTPException(status_code=409, detail=detail)


async def _targets(db: asyncpg.Connection, shop_id: str, asked: Sequence[str] | None) -> list[str]:
    connected = {
        r["platform"]: r["credential_status"]
        for r in await db.fetch(SQL["api_connected_platforms"], shop_id)
    }
    if asked is None:
        ready = [p for p, status in connected.items() if status == CredentialStatus.OK]
        if not ready:
            raise _conflict(f"{shop_id} has no connected platform ready to sync")
        return ready
    missing = [p.lower() for p in asked if p not in connected]
    if missing:
        raise _conflict(f"not connected to {shop_id}: {', '.join(missing)}; connect it first")
    reauth = [p.lower() for p in asked if connected[p] != CredentialStatus.OK]
    if reauth:
        raise _conflict(f"needs re-authorization, connect it again: {', '.join(reauth)}")
    return list(asked)


async def _request(
    db: asyncpg.Connection, shop_id: str, platform: str, job_type: str
) -> RequestedJob:
    row = await db.fetchrow(SQL["api_request_sync"], shop_id, platform, job_type)
    if row is None:
        raise NotFoundException(f"no shop {shop_id!r} for this user")
    return RequestedJob(
        platform,
        row["id"],
        row["job_type"],
        row["status"],
        row["already_queued"],
        upgraded=row["upgraded"],
    )


class SyncController(Controller):
    path = "/api/shops/{shop_id:str}"
    tags = ("sync",)

    @post("/sync", status_code=202, responses=problems(402, 403, 404, 409, 422))
    async def request_sync(
        self, db: UserDb, shop_id: ShopId, data: JSONBody[SyncRequest | None] = None
    ) -> RequestedJobs:
        """Queue a sync per platform (409 naming any platform that is not connected); no body
        means an INCREMENTAL of every connected platform."""
        asked = data or SyncRequest()
        await _require_shop(db, shop_id)
        targets = await _targets(db, shop_id, asked.platforms)
        return RequestedJobs(
            [await _request(db, shop_id, Platform(p), asked.job_type) for p in targets]
        )

    @get("/sync-status", responses=problems(404))
    async def sync_status(self, db: UserDb, shop_id: ShopId) -> SyncStatus:
        await _require_shop(db, shop_id)
        platforms = await db.fetch(SQL["shop_platforms"], shop_id)
        jobs = await db.fetch(SQL["api_recent_jobs"], shop_id, RECENT_JOBS)
        report = None
        if any(r["platform"] == Platform.SHOPIFY for r in platforms):
            row = await db.fetchrow(REPORTING["sync_shopify_report"], shop_id)
            assert row is not None  # one row per shop, checked or not
            report = ShopifyReportStatus.from_rows(
                row,
                await db.fetch(
                    REPORTING["sync_shopify_report_disagreements"], shop_id, DISAGREEMENTS
                ),
            )
        return SyncStatus(
            shop_id=shop_id,
            platforms=[PlatformStatus.from_row(r) for r in platforms],
            recent_jobs=[RecentJob.from_row(r) for r in jobs],
            shopify_report=report,
        )

    @post("/sync/{job_id:int}/cancel", status_code=202, responses=problems(403, 404, 409))
    async def cancel(
        self,
        db: UserDb,
        shop_id: ShopId,
        job_id: Annotated[int, Parameter(ge=1, le=2**53)],
    ) -> CancelRequested:
        """Ask a waiting or running job to stop; the worker honours it at its next check."""
        row = await db.fetchrow(SQL["api_request_cancel"], job_id, shop_id)
        if row is None:
            raise NotFoundException(f"no job {job_id} of {shop_id} for this user")
        return CancelRequested(row["id"], row["status"], row["cancel_requested"])
