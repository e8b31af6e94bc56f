"""The worker as a real process: SIGKILL mid-job, SIGTERM release, and the self-watchdog."""

from __future__ import annotations

import asyncio
import signal
import subprocess
import time
from collections.abc import Callable

import asyncpg
import psycopg

from tests.worker.jobs.conftest import (
    add_shop,
    fast_settings,
    job_row,
    only_job,
    running_worker,
    status_of,
    wait_until,
)

Spawn = Callable[..., subprocess.Popen[str]]
# The subprocess's timings (env STORELINE_WORKER_*): lease 1.5 s, reaper every 0.3 s.
PROC = {
    "lease_seconds": 1.5,
    "reap_interval_seconds": 0.3,
    "poll_interval_seconds": 0.2,
    "scheduler": "false",
    "slots": 2,
}


async def _rows(conn: asyncpg.Connection, job_id: int) -> int:
    return int(
        await conn.fetchval("SELECT count(*) FROM public.fake_rows WHERE job_id = $1", job_id)
    )


async def _exit(proc: subprocess.Popen[str], within: float) -> int:
    deadline = time.monotonic() + within
    while proc.poll() is None:
        if time.monotonic() > deadline:
            raise AssertionError(f"worker still running after {within} s")
        await asyncio.sleep(0.05)
    return proc.returncode


async def test_sigkill_mid_job_is_recovered_by_another_worker_without_duplicates(
    jobs_db: asyncpg.Connection, db_dsn: str, spawn_worker: Spawn
) -> None:
    shop = await add_shop(jobs_db, "killed", rows=12, chunk_seconds=0.1)
    job_id = await only_job(jobs_db, shop)
    victim = spawn_worker(PROC, "--worker-id", "w-victim")
    await wait_until(lambda: _rows(jobs_db, job_id), within=20)  # it is mid-job now
    victim.send_signal(signal.SIGKILL)
    assert await _exit(victim, 5) == -signal.SIGKILL
    killed_at = time.monotonic()
    lease_expires = await jobs_db.fetchval(
        "SELECT extract(epoch FROM lease_expires_at - now()) FROM app_dashboard.sync_jobs"
    )
    assert 0 < lease_expires <= 1.5

    async with running_worker(db_dsn, fast_settings(), worker_id="w-rescuer"):
        # No job stays IN_PROGRESS past lease + reap interval (plus scheduling slack).
        await wait_until(lambda: _not_held_by(jobs_db, job_id, "w-victim"), within=1.5 + 0.3 + 1)
        recovered_after = time.monotonic() - killed_at
        await wait_until(lambda: _is(jobs_db, job_id, "SUCCEEDED"), within=10)
    assert recovered_after < 1.5 + 0.3 + 1
    row = await job_row(jobs_db, job_id)
    assert (row["attempts"], row["worker_id"]) == (2, "w-rescuer")
    chunks = await jobs_db.fetch(
        "SELECT chunk, count(*) AS n, max(attempt) AS attempt FROM public.fake_rows "
        "GROUP BY chunk ORDER BY chunk"
    )
    assert [(c["chunk"], c["n"], c["attempt"]) for c in chunks] == [(i, 1, 2) for i in range(12)]
    path = await jobs_db.fetch(
        "SELECT to_status, worker_id, detail->>'reason' AS reason "
        "FROM app_dashboard.sync_job_events WHERE job_id = $1 ORDER BY id",
        job_id,
    )
    assert [(p["to_status"], p["worker_id"]) for p in path] == [
        ("QUEUED", None),
        ("IN_PROGRESS", "w-victim"),
        ("QUEUED", "w-victim"),
        ("IN_PROGRESS", "w-rescuer"),
        ("SUCCEEDED", "w-rescuer"),
    ]
    assert path[2]["reason"].startswith("lease expired")


async def _not_held_by(conn: asyncpg.Connection, job_id: int, worker_id: str) -> bool:
    row = await job_row(conn, job_id)
    return not (row["status"] == "IN_PROGRESS" and row["worker_id"] == worker_id)


async def _is(conn: asyncpg.Connection, job_id: int, status: str) -> bool:
    return await status_of(conn, job_id) == status


async def test_sigterm_releases_unfinished_jobs_with_the_attempt_restored(
    jobs_db: asyncpg.Connection, spawn_worker: Spawn
) -> None:
    quick = await add_shop(jobs_db, "quick", rows=2, chunk_seconds=0.3)
    slow = await add_shop(jobs_db, "slow", rows=200, chunk_seconds=0.05)
    quick_id, slow_id = await only_job(jobs_db, quick), await only_job(jobs_db, slow)
    proc = spawn_worker({**PROC, "grace_seconds": 1.0}, "--worker-id", "w-term")
    await wait_until(lambda: _both_running(jobs_db, quick_id, slow_id), within=20)
    proc.send_signal(signal.SIGTERM)
    code = await _exit(proc, 10)
    _, err = proc.communicate()
    assert code == 0, err[-2000:]
    # The quick job finished inside the grace period; the slow one went back to the queue.
    assert await status_of(jobs_db, quick_id) == "SUCCEEDED"
    row = await job_row(jobs_db, slow_id)
    assert (row["status"], row["attempts"], row["lease_token"]) == ("QUEUED", 0, None)
    assert row["records_synced"] < 200
    reason = await jobs_db.fetchval(
        "SELECT detail->>'reason' FROM app_dashboard.sync_job_events WHERE job_id = $1 "
        "ORDER BY id DESC LIMIT 1",
        slow_id,
    )
    assert reason == "released: worker shutting down"


async def _both_running(conn: asyncpg.Connection, *job_ids: int) -> bool:
    return all([await _rows(conn, j) > 0 for j in job_ids])


async def test_watchdog_exits_non_zero_when_the_database_stops_answering(
    jobs_db: asyncpg.Connection, db_dsn: str, pg_admin_dsn: str, spawn_worker: Spawn
) -> None:
    await add_shop(jobs_db, "wedged", rows=1000, chunk_seconds=0.05)
    proc = spawn_worker(PROC)
    await wait_until(lambda: jobs_db.fetchval("SELECT count(*) FROM public.fake_rows"), within=20)
    dbname = str(await jobs_db.fetchval("SELECT current_database()"))
    started = time.monotonic()
    _refuse_connections(pg_admin_dsn, dbname)
    code = await _exit(proc, 1.5 * 3 + 5)
    assert code == 3
    assert time.monotonic() - started < 1.5 * 3 + 5


def _refuse_connections(admin_dsn: str, dbname: str) -> None:
    """Cut the worker off: no new connections to its database, existing ones terminated."""
    with psycopg.connect(admin_dsn, autocommit=True) as admin:
        admin.execute(f'ALTER DATABASE "{dbname}" WITH ALLOW_CONNECTIONS false')
        admin.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s",
            (dbname,),
        )
