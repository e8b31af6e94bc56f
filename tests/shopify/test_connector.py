"""The Shopify connector end to end: sandbox over HTTP → staging → warehouse → daily_revenue,
compared with the sandbox oracle for every shop (incl. Pacific/Kiritimati)."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Any

import asyncpg
import pytest

from sandbox.server import RunningSandbox
from sandbox.world import ShopProfile
from storeline.enums import JobType
from tests.fixtures.sandbox import FreshSandbox
from tests.shopify.connector_support import (
    DbJobContext,
    create_shop,
    finish,
    make_context,
    sandbox_settings,
)
from tests.shopify.revenue_check import revenue_mismatches
from worker.connectors.shopify.client import ShopifyClient
from worker.connectors.shopify.connector import ShopifyConnector
from worker.errors import CredentialError

LIST_OPS = "query Ops { bulkOperations(first: 50) { edges { node { id query } } } }"


@pytest.fixture
def running(fresh_sandbox: FreshSandbox) -> RunningSandbox:
    return fresh_sandbox(platforms=["shopify"])


async def run_job(
    pool: asyncpg.Pool,
    running: RunningSandbox,
    shop: ShopProfile,
    job_type: JobType,
    **settings: Any,
) -> DbJobContext:
    ctx = await make_context(pool, shop, job_type)
    await ShopifyConnector(sandbox_settings(running, **settings)).run(ctx)
    await finish(ctx)
    return ctx


async def all_mismatches(pool: asyncpg.Pool, running: RunningSandbox) -> list[str]:
    async with pool.acquire() as conn:
        found: list[str] = []
        for shop in running.world.shops.values():
            found += await revenue_mismatches(conn, running.world, shop)
        return found


async def setup_shops(pool: asyncpg.Pool, running: RunningSandbox) -> list[ShopProfile]:
    shops = list(running.world.shops.values())
    async with pool.acquire() as conn:
        for shop in shops:
            await create_shop(conn, shop)
    return shops


async def test_backfill_and_incrementals_match_the_oracle(
    pool: asyncpg.Pool, running: RunningSandbox
) -> None:
    shops = await setup_shops(pool, running)
    await asyncio.gather(*(run_job(pool, running, s, JobType.HISTORICAL_INIT) for s in shops))
    assert await all_mismatches(pool, running) == []

    # Small windows go page by page; page_limit=2 forces the bulk takeover on the long one.
    for advance, limit in (
        (timedelta(hours=20), 20),
        (timedelta(days=6), 2),
        (timedelta(days=2), 20),
    ):
        running.world.advance(advance)
        await asyncio.gather(
            *(run_job(pool, running, s, JobType.INCREMENTAL, page_limit=limit) for s in shops)
        )
        assert await all_mismatches(pool, running) == [], f"after {advance}"
    async with pool.acquire() as conn:
        deleted = await conn.fetchval(
            "SELECT count(*) FROM core_warehouse.orders WHERE deleted_at IS NOT NULL"
        )
        cursor = await conn.fetchval(
            "SELECT watermark FROM app_dashboard.sync_cursors WHERE shop_id = $1", shops[0].shop_id
        )
    assert deleted > 0  # the deletion feed really was exercised
    assert cursor["orders_updated_at"] > "2026-11-0"


async def test_a_job_killed_mid_import_resumes_the_persisted_operation(
    pool: asyncpg.Pool, running: RunningSandbox
) -> None:
    shop = running.world.shops["kiri-surf.myshopify.com"]
    await create_shop_one(pool, shop)
    first = await make_context(pool, shop, JobType.HISTORICAL_INIT)
    task = asyncio.create_task(ShopifyConnector(sandbox_settings(running)).run(first))
    persisted = None
    while persisted is None:
        await asyncio.sleep(0.02)
        async with pool.acquire() as conn:
            progress = await conn.fetchval(
                "SELECT progress FROM app_dashboard.sync_jobs WHERE id = $1", first.job.id
            )
        persisted = (progress.get("bulk_orders") or {}).get("op")
    task.cancel()  # the worker process dies mid-import
    with pytest.raises(asyncio.CancelledError):
        await task

    second = await make_context(pool, shop, JobType.HISTORICAL_INIT, job_id=first.job.id)
    assert second.job.progress["bulk_orders"]["op"] == persisted
    await ShopifyConnector(sandbox_settings(running)).run(second)
    await finish(second)
    async with pool.acquire() as conn:
        progress = await conn.fetchval(
            "SELECT progress FROM app_dashboard.sync_jobs WHERE id = $1", first.job.id
        )
        assert progress["bulk_orders"]["last_op"] == persisted
        assert await revenue_mismatches(conn, running.world, shop) == []
    async with ShopifyClient(shop.shop_id, shop.shopify_token, sandbox_settings(running)) as c:
        ops = (await c.graphql(LIST_OPS)).data["bulkOperations"]["edges"]
    assert sum("orders(" in e["node"]["query"] for e in ops) == 1  # re-polled, not resubmitted


async def create_shop_one(pool: asyncpg.Pool, shop: ShopProfile) -> None:
    async with pool.acquire() as conn:
        await create_shop(conn, shop)


async def test_throttling_5xx_and_a_failed_bulk_operation_still_match(
    pool: asyncpg.Pool, running: RunningSandbox
) -> None:
    shop = running.world.shops["aurora-goods.myshopify.com"]
    await create_shop_one(pool, shop)
    faults = running.world.faults
    faults.inject("shopify", shop.shop_id, "throttle", times=3)
    faults.inject("shopify", shop.shop_id, "server_error", times=3, status=502)
    faults.inject("shopify", shop.shop_id, "bulk_failed", after_lines=700)
    ctx = await run_job(pool, running, shop, JobType.HISTORICAL_INIT, partial_overlap_roots=20)
    async with pool.acquire() as conn:
        progress = await conn.fetchval(
            "SELECT progress FROM app_dashboard.sync_jobs WHERE id = $1", ctx.job.id
        )
        assert "updated_at:>=" in progress["bulk_orders"]["search"]  # partial data was used
        assert await revenue_mismatches(conn, running.world, shop) == []


async def test_an_expired_token_fails_without_moving_the_cursor(
    pool: asyncpg.Pool, running: RunningSandbox
) -> None:
    shop = running.world.shops["berlin-botanics.myshopify.com"]
    await create_shop_one(pool, shop)
    await run_job(pool, running, shop, JobType.HISTORICAL_INIT)
    async with pool.acquire() as conn:
        before = await conn.fetchval("SELECT watermark FROM app_dashboard.sync_cursors")
    running.world.advance(timedelta(days=1))
    running.world.faults.inject("shopify", shop.shop_id, "expired_token", times=None)
    ctx = await make_context(pool, shop, JobType.INCREMENTAL)
    with pytest.raises(CredentialError) as caught:
        await ShopifyConnector(sandbox_settings(running)).run(ctx)
    assert caught.value.code == "shopify_unauthorized"
    assert shop.shopify_token not in str(caught.value)
    assert ctx.watermark is None
    async with pool.acquire() as conn:
        after = await conn.fetchval("SELECT watermark FROM app_dashboard.sync_cursors")
    assert after == before
