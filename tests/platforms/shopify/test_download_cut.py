"""A bulk result download broken mid-file (sandbox `cut_download`: the whole file's headers,
then a dropped connection) is resumed, within the attempt (Range) or by the job's next attempt
(the lines already in staging are skipped), and never loads a line twice; the revenue still
equals the oracle."""

from __future__ import annotations

import asyncpg
import pytest

from sandbox.faults import FaultKind
from sandbox.server import RunningSandbox
from tests.fixtures.sandbox import FreshSandbox
from tests.platforms.shopify.connector_support import connect_shop, engine, wait_for
from tests.platforms.shopify.revenue_check import revenue_mismatches

KIRI = "kiri-surf.myshopify.com"
AURORA = "aurora-goods.myshopify.com"  # its orders file is ~2.4 MB: more than two COPY batches

DUPLICATES = """
SELECT count(*) - count(DISTINCT (typename, gid))
FROM staging_ingest.shopify_bulk_rows
WHERE sync_job_id = $1 AND (typename <> 'Order' OR payload ? 'createdAt')
  AND typename IN ('Order', 'LineItem', 'ShippingLine', 'Customer')
"""


@pytest.fixture
def running(fresh_sandbox: FreshSandbox) -> RunningSandbox:
    return fresh_sandbox(platforms=["shopify"])


async def _backfill(
    db_dsn: str, pool: asyncpg.Pool, running: RunningSandbox, shop_id: str, **shopify: object
) -> asyncpg.Record:
    shop = running.world.shops[shop_id]
    async with pool.acquire() as conn:
        job = await connect_shop(conn, shop)
    async with engine(db_dsn, running, **shopify):
        rows = await wait_for(pool, [job], ("SUCCEEDED", "FAILED"))
    assert rows[0]["status"] == "SUCCEEDED", rows[0]["error"]
    assert running.world.faults.take("shopify", shop_id, FaultKind.CUT_DOWNLOAD) is None, "fired"
    async with pool.acquire() as conn:
        assert await conn.fetchval(DUPLICATES, rows[0]["id"]) == 0
        assert await revenue_mismatches(conn, running.world, shop) == []
    return rows[0]


async def test_a_cut_download_resumes_within_the_attempt(
    db_dsn: str, pool: asyncpg.Pool, running: RunningSandbox
) -> None:
    running.world.faults.inject("shopify", KIRI, FaultKind.CUT_DOWNLOAD, after_bytes=30_000)
    job = await _backfill(db_dsn, pool, running, KIRI)
    assert job["attempts"] == 1


async def test_cuts_that_outlast_the_retries_resume_in_the_next_attempt(
    db_dsn: str, pool: asyncpg.Pool, running: RunningSandbox
) -> None:
    # max_retries=1: the first attempt's download breaks twice (~1.4 MB in, more than one COPY
    # batch already committed) and gives up; the next attempt re-polls the completed operation,
    # skips the lines already in staging (loading none twice) and survives a third cut.
    running.world.faults.inject(
        "shopify", AURORA, FaultKind.CUT_DOWNLOAD, times=3, after_bytes=700_000
    )
    job = await _backfill(db_dsn, pool, running, AURORA, max_retries=1)
    assert job["attempts"] == 2
