"""Wake-up: a NOTIFY starts a new job at once; with LISTEN off, polling still finds it."""

from __future__ import annotations

import time

import asyncpg
import pytest

from tests.worker.jobs.conftest import add_shop, fast_settings, only_job, running_worker, wait_until


async def _succeeded(conn: asyncpg.Connection, job_id: int) -> bool:
    status = await conn.fetchval("SELECT status FROM app_dashboard.sync_jobs WHERE id = $1", job_id)
    return bool(status == "SUCCEEDED")


@pytest.mark.parametrize(("listen", "poll"), [(True, 30.0), (False, 0.3)], ids=["notify", "poll"])
async def test_new_job_is_picked_up(
    jobs_db: asyncpg.Connection, db_dsn: str, listen: bool, poll: float
) -> None:
    settings = fast_settings(poll_interval_seconds=poll)
    async with running_worker(db_dsn, settings, listen=listen) as worker:
        await wait_until(lambda: _claims(worker))  # idle: it made its first (empty) claim
        started = time.monotonic()
        shop = await add_shop(jobs_db, "woken")  # enqueues HISTORICAL_INIT
        job_id = await only_job(jobs_db, shop)
        await wait_until(lambda: _succeeded(jobs_db, job_id), within=5)
        elapsed = time.monotonic() - started
    # With a 30 s poll interval only the NOTIFY can explain a start within 5 s.
    assert elapsed < 5
    assert worker.stats["empty_claims"] >= 1


async def _claims(worker: object) -> int:
    return int(worker.stats["claims"])  # type: ignore[attr-defined]
