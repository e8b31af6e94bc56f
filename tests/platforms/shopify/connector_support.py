"""Helpers for the Shopify connector tests: settings pointed at a running sandbox, shops with
credentials, and `engine(...)`: the real worker (claim, leases, heartbeats, completion with the
cursor, NEEDS_REAUTH) running jobs against the sandbox.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import asyncpg

from sandbox.server import RunningSandbox
from sandbox.world import ShopProfile
from storeline.core import credentials
from storeline.core.enums import JobType, Platform
from storeline.core.sql import queries
from storeline.platforms.shopify.connector import ShopifyConnector
from storeline.platforms.shopify.settings import ShopifySettings
from storeline.worker.jobs.runner import Worker
from tests.platforms.engine import running_worker


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


# --- through the engine (worker.jobs.runner.Worker) ---------------------------------------------


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
    dsn: str,
    running: RunningSandbox,
    *,
    connector: type[ShopifyConnector] = ShopifyConnector,
    **shopify: Any,
) -> AsyncIterator[tuple[Worker, list[ShopifyConnector]]]:
    """The real worker (claim, leases, heartbeat, completion) running the Shopify connector
    (or a subclass) against the sandbox; yields it and the connectors it built (counters)."""
    settings = sandbox_settings(running, **shopify)
    built: list[ShopifyConnector] = []

    def factory() -> ShopifyConnector:
        built.append(connector(settings))
        return built[-1]

    async with running_worker(dsn, {Platform.SHOPIFY: factory}, pool_size=12) as worker:
        yield worker, built
