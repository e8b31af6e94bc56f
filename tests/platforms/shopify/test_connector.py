"""The Shopify connector end to end through the job engine: sandbox over HTTP → staging →
warehouse → reporting.daily_revenue, compared with the sandbox oracle for every shop (incl.
Pacific/Kiritimati), plus the failure paths the engine must see as structured job errors."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from decimal import Decimal

import asyncpg
import pytest

from sandbox.server import RunningSandbox
from sandbox.shopify import generate
from sandbox.world import ShopProfile
from storeline.core.enums import JobType
from storeline.platforms.shopify.client import ShopifyClient
from tests.fixtures.sandbox import FreshSandbox
from tests.platforms.shopify.connector_support import (
    connect_shop,
    engine,
    enqueue,
    sandbox_settings,
    wait_for,
)
from tests.platforms.shopify.revenue_check import revenue_mismatches

LIST_OPS = "query Ops { bulkOperations(first: 50) { edges { node { id query } } } }"
DONE = ("SUCCEEDED", "FAILED", "CANCELLED")


@pytest.fixture
def running(fresh_sandbox: FreshSandbox) -> RunningSandbox:
    return fresh_sandbox(platforms=["shopify"])


async def mismatches(
    pool: asyncpg.Pool, running: RunningSandbox, shops: list[ShopProfile]
) -> list[str]:
    found: list[str] = []
    async with pool.acquire() as conn:
        for shop in shops:
            found += await revenue_mismatches(conn, running.world, shop)
    return found


async def succeeded(pool: asyncpg.Pool, job_ids: list[int], within: float = 60.0) -> None:
    rows = await wait_for(pool, job_ids, DONE, within)
    assert [r["status"] for r in rows] == ["SUCCEEDED"] * len(rows), [r["error"] for r in rows]


async def refund_total_mismatches(pool: asyncpg.Pool, running: RunningSandbox) -> list[str]:
    """Refund totals come from the bulk headers (refund details leave them out): every stored
    refund has the model's total, in its column and in its raw JSON."""
    want = {
        r.id: r.total_refunded
        for shop in running.world.shops.values()
        for o in generate.iter_orders(running.world, shop)
        for r in o.refunds
    }
    async with pool.acquire() as conn:
        rows = await conn.fetch(
            "SELECT id, total_refunded,"
            " raw -> 'totalRefundedSet' -> 'shopMoney' ->> 'amount' AS raw"
            " FROM core_warehouse.refunds"
        )
    assert len(rows) == len(want)
    return [
        f"refund {r['id']}: {r['total_refunded']} / {r['raw']} != {want.get(r['id'])}"
        for r in rows
        if r["total_refunded"] != want.get(r["id"])
        or r["raw"] is None
        or Decimal(r["raw"]) != want.get(r["id"])
    ]


async def test_backfill_and_incrementals_match_the_oracle(
    db_dsn: str, pool: asyncpg.Pool, running: RunningSandbox
) -> None:
    shops = list(running.world.shops.values())
    async with pool.acquire() as conn:
        jobs = [await connect_shop(conn, shop) for shop in shops]
    async with engine(db_dsn, running, page_limit=20):
        await succeeded(pool, jobs)
        assert await mismatches(pool, running, shops) == []
        assert await refund_total_mismatches(pool, running) == []
        for advance in (timedelta(hours=20), timedelta(days=2)):
            running.world.advance(advance)
            async with pool.acquire() as conn:
                jobs = [await enqueue(conn, s.shop_id, JobType.INCREMENTAL) for s in shops]
            await succeeded(pool, jobs)
            assert await mismatches(pool, running, shops) == [], f"after {advance}"
    # A long window: page_limit=2 makes the pages hand over to a bulk export mid-window.
    running.world.advance(timedelta(days=6))
    async with engine(db_dsn, running, page_limit=2) as (_, built), pool.acquire() as conn:
        jobs = [await enqueue(conn, s.shop_id, JobType.INCREMENTAL) for s in shops]
        await succeeded(pool, jobs)
        assert all(c.last_run and c.last_run.exporter.submitted for c in built)
        assert await mismatches(pool, running, shops) == []
        deleted = await conn.fetchval(
            "SELECT count(*) FROM core_warehouse.orders WHERE deleted_at IS NOT NULL"
        )
        records = await conn.fetchval(
            "SELECT min(records_synced) FROM app_dashboard.sync_jobs WHERE status = 'SUCCEEDED'"
        )
        cursor = await conn.fetchval(
            "SELECT watermark FROM app_dashboard.sync_cursors WHERE shop_id = $1", shops[0].shop_id
        )
    assert deleted > 0  # the deletion feed really was exercised
    assert records > 0
    assert cursor["orders_updated_at"] >= "2026-11-09"  # Shopify's clock, not the worker's


async def test_a_worker_killed_mid_import_resumes_the_persisted_operation(
    db_dsn: str, pool: asyncpg.Pool, running: RunningSandbox
) -> None:
    shop = running.world.shops["kiri-surf.myshopify.com"]
    async with pool.acquire() as conn:
        job = await connect_shop(conn, shop)
    async with engine(db_dsn, running):  # stopped at once while the bulk operation runs
        while True:
            await asyncio.sleep(0.02)
            async with pool.acquire() as conn:
                progress = await conn.fetchval(
                    "SELECT progress FROM app_dashboard.sync_jobs WHERE id = $1", job
                )
            persisted = (progress.get("bulk_orders") or {}).get("op")
            if persisted:
                break
    async with engine(db_dsn, running) as (_, built):
        await succeeded(pool, [job])
    assert built[0].last_run is not None
    assert built[0].last_run.exporter.submitted <= 1  # at most customers: orders re-polled
    async with pool.acquire() as conn:
        progress = await conn.fetchval(
            "SELECT progress FROM app_dashboard.sync_jobs WHERE id = $1", job
        )
        assert progress["bulk_orders"]["last_op"] == persisted
        assert await revenue_mismatches(conn, running.world, shop) == []
    async with ShopifyClient(shop.shop_id, shop.shopify_token, sandbox_settings(running)) as c:
        ops = (await c.graphql(LIST_OPS)).data["bulkOperations"]["edges"]
    assert sum("orders(" in e["node"]["query"] for e in ops) == 1


async def test_throttling_5xx_and_a_failed_bulk_operation_still_match(
    db_dsn: str, pool: asyncpg.Pool, running: RunningSandbox
) -> None:
    shop = running.world.shops["aurora-goods.myshopify.com"]
    faults = running.world.faults
    faults.inject("shopify", shop.shop_id, "throttle", times=3)
    faults.inject("shopify", shop.shop_id, "server_error", times=3, status=502)
    faults.inject("shopify", shop.shop_id, "bulk_failed", after_lines=700)
    async with pool.acquire() as conn:
        job = await connect_shop(conn, shop)
    async with engine(db_dsn, running, partial_overlap_roots=20) as (_, built):
        await succeeded(pool, [job])
    assert built[0].last_run is not None
    assert built[0].last_run.client.throttled >= 3
    async with pool.acquire() as conn:
        progress = await conn.fetchval(
            "SELECT progress FROM app_dashboard.sync_jobs WHERE id = $1", job
        )
        assert "updated_at:>=" in progress["bulk_orders"]["search"]  # partial data was kept
        assert await revenue_mismatches(conn, running.world, shop) == []


async def test_an_expired_token_fails_the_job_and_marks_the_credential(
    db_dsn: str, pool: asyncpg.Pool, running: RunningSandbox
) -> None:
    shop = running.world.shops["berlin-botanics.myshopify.com"]
    async with pool.acquire() as conn:
        first = await connect_shop(conn, shop)
    async with engine(db_dsn, running):
        await succeeded(pool, [first])
        async with pool.acquire() as conn:
            before = await conn.fetchval("SELECT watermark FROM app_dashboard.sync_cursors")
            running.world.advance(timedelta(days=1))
            running.world.faults.inject("shopify", shop.shop_id, "expired_token", times=None)
            job = await enqueue(conn, shop.shop_id, JobType.INCREMENTAL)
        (row,) = await wait_for(pool, [job], DONE)
    assert row["status"] == "FAILED"
    assert row["error"]["code"] == "shopify_unauthorized"
    assert row["error"]["retryable"] is False
    assert row["attempts"] == 1  # terminal: never retried
    assert shop.shopify_token not in str(row["error"])
    async with pool.acquire() as conn:
        status = await conn.fetchval(
            "SELECT status FROM app_dashboard.shop_credentials WHERE shop_id = $1", shop.shop_id
        )
        after = await conn.fetchval("SELECT watermark FROM app_dashboard.sync_cursors")
    assert status == "NEEDS_REAUTH"
    assert after == before
