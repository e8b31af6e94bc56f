"""Helpers for the Shopify connector tests: settings pointed at a running sandbox, shops with
credentials, and two ways to run a job: `engine(...)`, the real worker (claim, leases, heartbeats,
completion with the cursor, NEEDS_REAUTH), and `DbJobContext`, a minimal JobContext over the same
tables for tests that need to hold the connector itself (killing it mid-import).
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

import asyncpg

from sandbox.server import RunningSandbox
from sandbox.world import ShopProfile
from storeline import credentials, db
from storeline.enums import JobType, Platform
from storeline.sql import queries
from worker.connectors.shopify.connector import ShopifyConnector
from worker.connectors.shopify.settings import ShopifySettings
from worker.errors import LeaseLost
from worker.jobs.contract import ClaimedJob, ShopInfo
from worker.jobs.runner import Worker
from worker.settings import WorkerSettings


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


# --- through the engine (worker.jobs.runner.Worker) ---------------------------------------------

ENGINE: dict[str, Any] = {
    "slots": 4,
    "lease_seconds": 6.0,
    "reap_interval_seconds": 0.5,
    "poll_interval_seconds": 0.1,
    "grace_seconds": 1.0,
    "cancel_grace_seconds": 0.5,
    "backoff_base_seconds": 0.05,
    "backoff_cap_seconds": 0.2,
    "scheduler": False,
}


async def connect_shop(
    conn: asyncpg.Connection, shop: ShopProfile, token: str | None = None
) -> int:
    """The shop row plus its Shopify credential; saving it enqueues HISTORICAL_INIT (its id)."""
    await create_shop(conn, shop)
    job_id = await credentials.save(
        conn,
        shop_id=shop.shop_id,
        platform=Platform.SHOPIFY,
        secrets={"access_token": token or shop.shopify_token},
        metadata={},
    )
    assert job_id is not None
    return job_id


async def enqueue(conn: asyncpg.Connection, shop_id: str, job_type: JobType) -> int:
    job_id = await conn.fetchval(
        queries("app_dashboard")["enqueue_job"], shop_id, Platform.SHOPIFY.value, job_type.value,
        100, None,
    )  # fmt: skip
    assert job_id is not None
    return int(job_id)


async def wait_for(
    pool: asyncpg.Pool, job_ids: list[int], statuses: tuple[str, ...], within: float = 60.0
) -> list[asyncpg.Record]:
    """Poll until every job is in one of `statuses`; return their rows."""
    deadline = time.monotonic() + within
    while True:
        async with pool.acquire() as conn:
            rows = await conn.fetch(
                "SELECT * FROM app_dashboard.sync_jobs WHERE id = ANY($1::bigint[]) ORDER BY id",
                job_ids,
            )
        if len(rows) == len(job_ids) and all(r["status"] in statuses for r in rows):
            return list(rows)
        if time.monotonic() > deadline:
            raise AssertionError(
                f"jobs not {statuses} within {within} s: "
                f"{[(r['id'], r['status'], r['error']) for r in rows]}"
            )
        await asyncio.sleep(0.05)


@asynccontextmanager
async def engine(
    dsn: str, running: RunningSandbox, **shopify: Any
) -> AsyncIterator[tuple[Worker, list[ShopifyConnector]]]:
    """The real worker (claim, leases, heartbeat, completion) running the Shopify connector
    against the sandbox; yields it and the connectors it built (their counters)."""
    settings = sandbox_settings(running, **shopify)
    built: list[ShopifyConnector] = []

    def factory() -> ShopifyConnector:
        built.append(ShopifyConnector(settings))
        return built[-1]

    pool = await db.create_pool(dsn, min_size=1, max_size=12)
    engine_pool = await db.create_pool(dsn, min_size=1, max_size=3)
    worker = Worker(
        pool=pool,
        engine_pool=engine_pool,
        settings=WorkerSettings(**ENGINE),
        connectors={Platform.SHOPIFY: factory},
        listen_dsn=dsn,
    )
    task = asyncio.create_task(worker.run())
    try:
        yield worker, built
    finally:
        worker.stop(immediate=True)
        await asyncio.wait_for(task, 30)
        await pool.close()
        await engine_pool.close()
