"""Cancellation: `cancel_requested` stops a running job at its next check (or by force after a
grace), cancels a queued one before it runs, and never moves the cursor."""

from __future__ import annotations

import asyncpg
import pytest

from storeline.core.sql import queries
from storeline.worker.jobs.reaper import reap_once
from tests.worker.jobs.conftest import (
    add_shop,
    fast_settings,
    job_row,
    only_job,
    running_worker,
    status_of,
    wait_until,
)


async def _started(conn: asyncpg.Connection, job_id: int) -> bool:
    n = await conn.fetchval("SELECT count(*) FROM public.fake_rows WHERE job_id = $1", job_id)
    return bool(n)


@pytest.mark.parametrize("ignore_cancel", [False, True], ids=["cooperative", "forced"])
async def test_cancelling_a_running_job(
    jobs_db: asyncpg.Connection, db_dsn: str, ignore_cancel: bool
) -> None:
    shop = await add_shop(
        jobs_db, "cancelme", rows=100, chunk_seconds=0.05, ignore_cancel=ignore_cancel
    )
    job_id = await only_job(jobs_db, shop)
    async with running_worker(db_dsn, fast_settings()) as worker:
        await wait_until(lambda: _started(jobs_db, job_id))
        status = await jobs_db.fetchval(queries("app_dashboard")["request_cancel"], job_id)
        assert status == "IN_PROGRESS"
        await wait_until(lambda: _is(jobs_db, job_id, "CANCELLED"), within=5)
    row = await job_row(jobs_db, job_id)
    assert row["error"]["code"] == "cancelled"
    assert row["lease_token"] is None
    assert row["records_synced"] < 100
    assert worker.stats["cancelled"] == 1
    assert await jobs_db.fetchval("SELECT count(*) FROM app_dashboard.sync_cursors") == 0


async def _is(conn: asyncpg.Connection, job_id: int, status: str) -> bool:
    return await status_of(conn, job_id) == status


async def test_cancelling_a_queued_job_means_it_never_runs(
    jobs_db: asyncpg.Connection, db_dsn: str
) -> None:
    shop = await add_shop(jobs_db, "never")
    job_id = await only_job(jobs_db, shop)
    assert await jobs_db.fetchval(queries("app_dashboard")["request_cancel"], job_id) == "CANCELLED"
    assert await jobs_db.fetchval(queries("app_dashboard")["request_cancel"], job_id) is None
    async with running_worker(db_dsn, fast_settings()) as worker:
        await wait_until(lambda: _stat(worker, "claims"))
    assert worker.stats["claimed"] == 0
    assert await status_of(jobs_db, job_id) == "CANCELLED"


async def _stat(worker: object, key: str) -> int:
    return int(worker.stats[key])  # type: ignore[attr-defined]


async def test_a_flag_set_through_the_api_on_a_queued_job_is_honoured(
    jobs_db: asyncpg.Connection, pool: asyncpg.Pool
) -> None:
    """The API may only set `cancel_requested` (its grant); the claim skips such a job and the
    reaper finishes the cancellation."""
    shop = await add_shop(jobs_db, "apiflag")
    job_id = await only_job(jobs_db, shop)
    await jobs_db.execute(
        "UPDATE app_dashboard.sync_jobs SET cancel_requested = true WHERE id = $1", job_id
    )
    assert (await reap_once(pool, fast_settings(), worker_id="w")).cancelled == 1
    assert await status_of(jobs_db, job_id) == "CANCELLED"
    events = await jobs_db.fetch(
        "SELECT to_status FROM app_dashboard.sync_job_events WHERE job_id = $1 ORDER BY id",
        job_id,
    )
    assert [e["to_status"] for e in events] == ["QUEUED", "CANCELLED"]
