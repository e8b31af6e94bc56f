"""Helpers for the Shopify connector tests: settings pointed at a running sandbox, a shop row, and
a test-only JobContext over the real database (used until the engine's runner drives jobs).

The context honours the contract the way the engine does: every write is fenced by the lease
token, progress is merged into sync_jobs.progress, and the cursor is only committed by `finish`.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

import asyncpg

from sandbox.server import RunningSandbox
from sandbox.world import ShopProfile
from storeline.enums import JobType, Platform
from worker.connectors.shopify.settings import ShopifySettings
from worker.errors import LeaseLost
from worker.jobs.contract import ClaimedJob, ShopInfo


def sandbox_settings(running: RunningSandbox, **overrides: Any) -> ShopifySettings:
    """Fast timings for tests: retries and polls in milliseconds, not seconds."""
    values: dict[str, Any] = {
        "base_url": f"{running.urls['shopify']}/shops/{{handle}}",
        "retry_backoff_seconds": 0.01,
        "poll_min_seconds": 0.05,
        "poll_max_seconds": 0.2,
        "request_timeout_seconds": 5.0,
        "in_progress_wait_seconds": 1.0,
    }
    values.update(overrides)
    return ShopifySettings(**values)


async def create_shop(conn: asyncpg.Connection, shop: ShopProfile) -> None:
    agency = await conn.fetchval(
        "INSERT INTO app_dashboard.agencies (name) VALUES ('Test agency') RETURNING id"
    )
    await conn.execute(
        "INSERT INTO app_dashboard.shops (id, name, currency, timezone, agency_id) "
        "VALUES ($1, $2, $3, $4, $5) ON CONFLICT (id) DO NOTHING",
        shop.shop_id,
        shop.name,
        shop.currency,
        shop.timezone,
        agency,
    )


async def start_job(
    pool: asyncpg.Pool, shop_id: str, job_type: JobType, *, job_id: int | None = None
) -> ClaimedJob:
    """A job row IN_PROGRESS under a fresh lease (a new attempt when `job_id` is given)."""
    token = uuid.uuid4()
    async with pool.acquire() as conn:
        if job_id is None:
            row = await conn.fetchrow(
                "INSERT INTO app_dashboard.sync_jobs (shop_id, platform, job_type, status, "
                "attempts, lease_token, lease_expires_at, started_at) "
                "VALUES ($1, 'SHOPIFY', $2, 'IN_PROGRESS', 1, $3, now() + interval '2 min', now()) "
                "RETURNING id, attempts, max_attempts, progress",
                shop_id,
                job_type.value,
                token,
            )
        else:
            row = await conn.fetchrow(
                "UPDATE app_dashboard.sync_jobs SET status = 'IN_PROGRESS', "
                "attempts = attempts + 1, lease_token = $2, "
                "lease_expires_at = now() + interval '2 min' WHERE id = $1 "
                "RETURNING id, attempts, max_attempts, progress",
                job_id,
                token,
            )
    assert row is not None
    return ClaimedJob(
        id=row["id"],
        shop_id=shop_id,
        platform=Platform.SHOPIFY,
        job_type=job_type,
        attempts=row["attempts"],
        max_attempts=row["max_attempts"],
        lease_token=token,
        progress=row["progress"],
    )


@dataclass
class DbJobContext:
    job: ClaimedJob
    shop: ShopInfo
    pool: asyncpg.Pool
    cursor: Mapping[str, Any]
    secrets: Mapping[str, Any]
    metadata: Mapping[str, Any] = field(default_factory=dict)
    watermark: Mapping[str, Any] | None = None
    cancelled: bool = False

    @asynccontextmanager
    async def fenced(self) -> AsyncIterator[asyncpg.Connection]:
        async with self.pool.acquire() as conn, conn.transaction():
            owned = await conn.fetchval(
                "SELECT 1 FROM app_dashboard.sync_jobs WHERE id = $1 AND lease_token = $2 "
                "AND status = 'IN_PROGRESS' FOR UPDATE",
                self.job.id,
                self.job.lease_token,
            )
            if owned is None:
                raise LeaseLost()
            yield conn

    async def save_progress(self, **progress: Any) -> None:
        async with self.fenced() as conn:
            await conn.execute(
                "UPDATE app_dashboard.sync_jobs SET progress = progress || $2::jsonb WHERE id = $1",
                self.job.id,
                progress,
            )

    async def add_records(self, count: int) -> None:
        async with self.fenced() as conn:
            await conn.execute(
                "UPDATE app_dashboard.sync_jobs SET records_synced = records_synced + $2 "
                "WHERE id = $1",
                self.job.id,
                count,
            )

    def set_cursor(self, watermark: Mapping[str, Any]) -> None:
        self.watermark = dict(watermark)

    def check_cancelled(self) -> None:
        if self.cancelled:
            raise RuntimeError("cancelled by the test")


async def make_context(
    pool: asyncpg.Pool,
    shop: ShopProfile,
    job_type: JobType,
    *,
    token: str | None = None,
    job_id: int | None = None,
) -> DbJobContext:
    job = await start_job(pool, shop.shop_id, job_type, job_id=job_id)
    async with pool.acquire() as conn:
        cursor = await conn.fetchval(
            "SELECT watermark FROM app_dashboard.sync_cursors "
            "WHERE shop_id = $1 AND platform = 'SHOPIFY'",
            shop.shop_id,
        )
    return DbJobContext(
        job=job,
        shop=ShopInfo(shop.shop_id, shop.currency, shop.timezone),
        pool=pool,
        cursor=cursor or {},
        secrets={"access_token": token or shop.shopify_token},
    )


async def finish(ctx: DbJobContext) -> None:
    """What the engine does on success: SUCCEEDED and the cursor, in one fenced transaction."""
    async with ctx.fenced() as conn:
        await conn.execute(
            "UPDATE app_dashboard.sync_jobs SET status = 'SUCCEEDED', lease_token = NULL, "
            "lease_expires_at = NULL, completed_at = now() WHERE id = $1",
            ctx.job.id,
        )
        if ctx.watermark is not None:
            await conn.execute(
                "INSERT INTO app_dashboard.sync_cursors (shop_id, platform, watermark, "
                "last_success_at, last_job_id) VALUES ($1, 'SHOPIFY', $2, now(), $3) "
                "ON CONFLICT (shop_id, platform) DO UPDATE SET watermark = EXCLUDED.watermark, "
                "last_success_at = now(), last_job_id = EXCLUDED.last_job_id",
                ctx.shop.id,
                ctx.watermark,
                ctx.job.id,
            )
