"""A worker's Postgres session dies mid-job (`pg_terminate_backend`; in production a pooler
restart or a network blip): in the middle of a staging COPY, in the middle of the transform, and
between them, several times in one job. Every job still ends with revenue equal to the oracle on
every day, no staged line missing or loaded twice, and `records_synced` equal to what committed;
the job is retried within lease + reap interval, never left hanging under a live lease. A bulk
file that arrives short of its operation's objectCount never passes as complete.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import asyncpg
import pytest

from sandbox.faults import FaultKind
from sandbox.server import RunningSandbox
from tests.fixtures.sandbox import FreshSandbox
from tests.platforms.engine import ENGINE, WORKER_APP
from tests.platforms.shopify.connector_support import connect_shop, engine, wait_for
from tests.platforms.shopify.revenue_check import revenue_mismatches

AURORA = "aurora-goods.myshopify.com"  # its orders file is ~2.4 MB

# Lines a job staged, per (typename, gid), counted twice or more: a resume that re-loads lines.
DUPLICATES = """
SELECT count(*) - count(DISTINCT (typename, gid))
FROM staging_ingest.shopify_bulk_rows
WHERE sync_job_id = $1 AND (typename <> 'Order' OR payload ? 'createdAt')
  AND typename IN ('Order', 'LineItem', 'ShippingLine', 'Customer')
"""

# The connectors' backends of this test's database (tests share one server) in one of `states`
# whose current (or, when idle, last) statement matches `pattern`.
VICTIMS = """
SELECT pid FROM pg_stat_activity
WHERE datname = current_database() AND application_name = $3
  AND state = ANY($2::text[]) AND query ILIKE $1
"""
BUSY = ("active", "idle in transaction")


@pytest.fixture
def running(fresh_sandbox: FreshSandbox) -> RunningSandbox:
    return fresh_sandbox(platforms=["shopify"])


class Kills(list[tuple[int, float]]):
    """(pid, monotonic time) of each backend terminated; `first` is set at the first."""

    def __init__(self) -> None:
        super().__init__()
        self.first = asyncio.Event()


@asynccontextmanager
async def killer(
    dsn: str, pattern: str, times: int, states: tuple[str, ...] = BUSY
) -> AsyncIterator[Kills]:
    """Terminate up to `times` backends caught in `states` on a statement matching `pattern`;
    yields (pid, monotonic time) of those terminated so far."""
    killed = Kills()
    conn = await asyncpg.connect(dsn)

    async def hunt() -> None:
        while len(killed) < times:
            done = {pid for pid, _ in killed}
            rows = await conn.fetch(VICTIMS, pattern, list(states), WORKER_APP)
            pids = [r["pid"] for r in rows if r["pid"] not in done]
            if pids:
                await conn.execute("SELECT pg_terminate_backend($1)", pids[0])
                killed.append((pids[0], time.monotonic()))
                killed.first.set()
            else:
                await asyncio.sleep(0.001)

    task = asyncio.create_task(hunt())
    try:
        yield killed
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
        await conn.close()


async def _check_job(pool: asyncpg.Pool, running: RunningSandbox, job: asyncpg.Record) -> None:
    assert job["status"] == "SUCCEEDED", job["error"]
    shop = running.world.shops[AURORA]
    async with pool.acquire() as conn:
        assert await conn.fetchval(DUPLICATES, job["id"]) == 0
        staged = await conn.fetchval(
            "SELECT count(*) FROM staging_ingest.shopify_bulk_rows WHERE sync_job_id = $1",
            job["id"],
        )
        assert job["records_synced"] == staged
        assert await revenue_mismatches(conn, running.world, shop) == []


async def _backfill_while_killing(
    db_dsn: str,
    pool: asyncpg.Pool,
    running: RunningSandbox,
    pattern: str,
    times: int,
    states: tuple[str, ...] = BUSY,
) -> tuple[asyncpg.Record, Kills]:
    shop = running.world.shops[AURORA]
    async with pool.acquire() as conn:
        job_id = await connect_shop(conn, shop)
    async with (
        killer(db_dsn, pattern, times, states) as killed,
        engine(db_dsn, running, staging_batch_bytes=32_768),
    ):
        rows = await wait_for(pool, [job_id], ("SUCCEEDED", "FAILED"), within=60)
    return rows[0], killed


async def test_connections_killed_mid_copy_lose_no_line(
    db_dsn: str, pool: asyncpg.Pool, running: RunningSandbox
) -> None:
    job, killed = await _backfill_while_killing(
        db_dsn, pool, running, "COPY %shopify_bulk_rows%", times=3
    )
    assert len(killed) == 3, "the test never caught a COPY in flight"
    await _check_job(pool, running, job)


async def test_connections_killed_mid_transform_lose_no_line(
    db_dsn: str, pool: asyncpg.Pool, running: RunningSandbox
) -> None:
    job, killed = await _backfill_while_killing(
        db_dsn, pool, running, "%INSERT INTO core_warehouse.%", times=2
    )
    assert len(killed) == 2, "the test never caught a transform in flight"
    await _check_job(pool, running, job)


async def test_a_backfill_killed_after_its_order_side_committed_retries_to_the_oracle(
    db_dsn: str, pool: asyncpg.Pool, running: RunningSandbox
) -> None:
    """A backfill commits its order side while refund details are fetched (connector.py
    `_order_pass`); the session dies in the last transaction (the refund side), after the first
    committed (here: in its rollup). The retry ends equal to the oracle."""
    job, killed = await _backfill_while_killing(
        db_dsn, pool, running, "%reporting.shopify_daily_kpis(%", times=1
    )
    assert len(killed) == 1, "the test never caught the last transaction in flight"
    assert job["attempts"] >= 2
    assert "order_pass" in job["progress"]
    await _check_job(pool, running, job)


async def test_connections_killed_between_statements_lose_no_line(
    db_dsn: str, pool: asyncpg.Pool, running: RunningSandbox
) -> None:
    """Idle pooled connections (released, reset, waiting in the pool: between staging batches
    and between staging and the transform) die before their next use."""
    job, killed = await _backfill_while_killing(
        db_dsn, pool, running, "%RESET ALL%", times=3, states=("idle",)
    )
    assert len(killed) == 3, "the test never caught an idle connection"
    await _check_job(pool, running, job)


async def test_a_job_whose_connection_dies_is_retried_within_lease_and_reap_interval(
    db_dsn: str, pool: asyncpg.Pool, running: RunningSandbox
) -> None:
    """Like a killed worker's job: back in line within lease + reap interval (plus the retry's
    backoff), not after minutes under a live lease."""
    shop = running.world.shops[AURORA]
    async with pool.acquire() as conn:
        job_id = await connect_shop(conn, shop)
    bound = ENGINE["lease_seconds"] + ENGINE["reap_interval_seconds"]
    bound += ENGINE["backoff_cap_seconds"]
    async with (
        killer(db_dsn, "COPY %shopify_bulk_rows%", 1) as killed,
        engine(db_dsn, running, staging_batch_bytes=32_768),
    ):
        await asyncio.wait_for(killed.first.wait(), 30)
        _, at = killed[0]
        while True:
            attempts = await pool.fetchval(
                "SELECT attempts FROM app_dashboard.sync_jobs WHERE id = $1", job_id
            )
            if attempts >= 2:
                break
            assert time.monotonic() - at < bound, "the job was not retried in time"
            await asyncio.sleep(0.02)
        rows = await wait_for(pool, [job_id], ("SUCCEEDED", "FAILED"), within=60)
    await _check_job(pool, running, rows[0])


async def test_a_bulk_file_short_of_its_object_count_is_loaded_again(
    db_dsn: str, pool: asyncpg.Pool, running: RunningSandbox
) -> None:
    """Count and check: a result file served short (well formed, fewer lines than the
    operation's objectCount) fails the attempt transiently; the retry loads the whole file."""
    shop = running.world.shops[AURORA]
    running.world.faults.inject("shopify", shop.shop_id, FaultKind.SHORT_FILE, drop_lines=40)
    async with pool.acquire() as conn:
        job_id = await connect_shop(conn, shop)
    async with engine(db_dsn, running):
        rows = await wait_for(pool, [job_id], ("SUCCEEDED", "FAILED"), within=60)
    job = rows[0]
    assert job["status"] == "SUCCEEDED", job["error"]
    assert job["attempts"] == 2
    codes = await pool.fetch(
        "SELECT detail->'error'->>'code' AS code FROM app_dashboard.sync_job_events "
        "WHERE job_id = $1 AND to_status = 'QUEUED' AND from_status = 'IN_PROGRESS'",
        job_id,
    )
    assert [c["code"] for c in codes] == ["shopify_bulk_file_short"]
    async with pool.acquire() as conn:
        assert await revenue_mismatches(conn, running.world, shop) == []
