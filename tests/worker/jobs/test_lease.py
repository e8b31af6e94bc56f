"""Leases: a zombie that lost its lease writes nothing; heartbeats keep long jobs alive; the
reaper returns expired leases, counting them as attempts."""

from __future__ import annotations

import asyncio

import asyncpg
import pytest

from storeline.core.sql import queries
from storeline.platforms import SOURCES
from storeline.worker.errors import LeaseLost
from storeline.worker.jobs import transitions
from storeline.worker.jobs.claim import claim
from storeline.worker.jobs.completer import Completer
from storeline.worker.jobs.context import RunContext
from storeline.worker.jobs.reaper import Reaped, reap_once
from tests.worker.jobs import fakes
from tests.worker.jobs.conftest import (
    add_shop,
    fast_settings,
    job_row,
    only_job,
    running_worker,
    status_of,
    wait_until,
)

ALL = SOURCES


async def expire_leases(conn: asyncpg.Connection) -> None:
    await conn.execute(
        "UPDATE app_dashboard.sync_jobs SET lease_expires_at = now() - interval '1 s' "
        "WHERE status = 'IN_PROGRESS'"
    )


async def test_zombie_that_lost_its_lease_cannot_write_or_complete(
    jobs_db: asyncpg.Connection, pool: asyncpg.Pool
) -> None:
    shop = await add_shop(jobs_db, "zombie")
    (old,) = await claim(pool, worker_id="w-zombie", limit=1, lease_seconds=60, platforms=ALL)
    zombie = RunContext(pool=pool, job=old.job, shop=old.shop, cursor={}, secrets={}, metadata={})
    async with zombie.fenced() as conn:  # while the lease is valid, fenced writes work
        await conn.execute("SELECT 1")

    # The zombie stalls past its lease; another worker reaps and claims the job.
    await expire_leases(jobs_db)
    assert (await reap_once(pool, fast_settings(), worker_id="w-reaper")).requeued == 1
    await jobs_db.execute("UPDATE app_dashboard.sync_jobs SET run_after = now()")
    (new,) = await claim(pool, worker_id="w-live", limit=1, lease_seconds=60, platforms=ALL)
    assert new.job.id == old.job.id
    assert new.job.attempts == 2

    with pytest.raises(LeaseLost):
        async with zombie.fenced():
            pass
    with pytest.raises(LeaseLost):
        await zombie.save_progress(step="late")
    with pytest.raises(LeaseLost):
        await zombie.add_records(10)
    token = old.job.lease_token
    assert not await Completer(pool).complete(old.job.id, token, {"rows": 999})
    assert not await transitions.fail(pool, old.job.id, token, {"code": "x"}, reauth_reason="x")
    assert not await transitions.cancel(pool, old.job.id, token, {"code": "x"})
    assert not await transitions.requeue(pool, old.job.id, token)

    row = await job_row(jobs_db, old.job.id)
    assert (row["status"], row["worker_id"], row["lease_token"]) == (
        "IN_PROGRESS",
        "w-live",
        new.job.lease_token,
    )
    assert row["progress"] == {}
    assert row["records_synced"] == 0
    assert await jobs_db.fetchval("SELECT count(*) FROM app_dashboard.sync_cursors") == 0
    cred = await jobs_db.fetchval(
        "SELECT status FROM app_dashboard.shop_credentials WHERE shop_id = $1", shop
    )
    assert cred == "OK"
    # The live holder still completes normally.
    assert await Completer(pool).complete(new.job.id, new.job.lease_token, {"rows": 1})


async def test_running_worker_stops_a_job_whose_lease_was_taken(
    jobs_db: asyncpg.Connection, db_dsn: str, pool: asyncpg.Pool
) -> None:
    """The heartbeat finds 0 rows, cancels the connector, and nothing more is written."""
    shop = await add_shop(jobs_db, "stolen", rows=40, chunk_seconds=0.05)
    job_id = await only_job(jobs_db, shop)
    async with running_worker(db_dsn, fast_settings()) as worker:
        await wait_until(
            lambda: jobs_db.fetchval(
                "SELECT count(*) FROM public.fake_rows WHERE job_id = $1", job_id
            )
        )
        # Steal it: as if the reaper had requeued it and another worker claimed it.
        await jobs_db.execute(
            "UPDATE app_dashboard.sync_jobs SET lease_token = gen_random_uuid(), "
            "worker_id = 'w-thief' WHERE id = $1",
            job_id,
        )
        await wait_until(lambda: _stat(worker, "lease_lost"), within=5)
        written = await jobs_db.fetchval("SELECT count(*) FROM public.fake_rows")
    row = await job_row(jobs_db, job_id)
    assert (row["status"], row["worker_id"]) == ("IN_PROGRESS", "w-thief")
    assert written < 40
    assert await jobs_db.fetchval("SELECT count(*) FROM public.fake_rows") == written
    assert await jobs_db.fetchval("SELECT count(*) FROM app_dashboard.sync_cursors") == 0


async def _stat(worker: object, key: str) -> int:
    return int(worker.stats[key])  # type: ignore[attr-defined]


async def test_heartbeat_keeps_a_job_longer_than_its_lease(
    jobs_db: asyncpg.Connection, db_dsn: str
) -> None:
    # 3 s of work on a 1.5 s lease, with a second worker reaping every 0.3 s.
    shop = await add_shop(jobs_db, "long", rows=10, chunk_seconds=0.3)
    job_id = await only_job(jobs_db, shop)
    async with (
        running_worker(db_dsn, fast_settings(slots=1)),
        running_worker(db_dsn, fast_settings(slots=1)),
    ):
        await wait_until(lambda: _is(jobs_db, job_id, "SUCCEEDED"), within=15)
    row = await job_row(jobs_db, job_id)
    assert row["attempts"] == 1
    assert row["records_synced"] == 10
    transitions_seen = await jobs_db.fetch(
        "SELECT to_status FROM app_dashboard.sync_job_events WHERE job_id = $1 ORDER BY id", job_id
    )
    assert [r["to_status"] for r in transitions_seen] == ["QUEUED", "IN_PROGRESS", "SUCCEEDED"]


async def _is(conn: asyncpg.Connection, job_id: int, status: str) -> bool:
    return await status_of(conn, job_id) == status


async def test_expired_lease_counts_as_an_attempt_and_ends_failed(
    jobs_db: asyncpg.Connection, pool: asyncpg.Pool
) -> None:
    shop = await add_shop(jobs_db, "crashy")
    job_id = await only_job(jobs_db, shop)
    await jobs_db.execute("UPDATE app_dashboard.sync_jobs SET max_attempts = 2")
    settings = fast_settings()
    for attempt in (1, 2):
        await jobs_db.execute("UPDATE app_dashboard.sync_jobs SET run_after = now()")
        (c,) = await claim(pool, worker_id=f"w-{attempt}", limit=1, lease_seconds=60, platforms=ALL)
        assert c.job.attempts == attempt
        await expire_leases(jobs_db)
        reaped = await reap_once(pool, settings, worker_id="w-reaper")
        assert (reaped.requeued, reaped.failed) == ((1, 0) if attempt == 1 else (0, 1))
    row = await job_row(jobs_db, job_id)
    assert row["status"] == "FAILED"
    assert row["lease_token"] is None
    assert row["error"]["code"] == "lease_expired"
    assert row["error"]["retryable"] is True
    reasons = await jobs_db.fetch(
        "SELECT to_status, detail->>'reason' AS reason FROM app_dashboard.sync_job_events "
        "WHERE job_id = $1 AND from_status = 'IN_PROGRESS' ORDER BY id",
        job_id,
    )
    assert [r["to_status"] for r in reasons] == ["QUEUED", "FAILED"]
    assert all("reaped by w-reaper" in r["reason"] for r in reasons)


async def test_reaper_leaves_a_renewed_lease_alone(
    jobs_db: asyncpg.Connection, pool: asyncpg.Pool
) -> None:
    await add_shop(jobs_db, "fresh")
    await claim(pool, worker_id="w", limit=1, lease_seconds=60, platforms=ALL)
    assert await reap_once(pool, fast_settings(), worker_id="w-reaper") == Reaped()
    assert await jobs_db.fetchval("SELECT status FROM app_dashboard.sync_jobs") == "IN_PROGRESS"


async def test_requeue_merges_a_job_queued_meanwhile(
    jobs_db: asyncpg.Connection, pool: asyncpg.Pool
) -> None:
    """One QUEUED per key: a retry absorbs the job queued while it ran (keeping the broader
    type) instead of colliding with it."""
    shop = await add_shop(jobs_db, "merge")
    await jobs_db.execute("UPDATE app_dashboard.sync_jobs SET job_type = 'INCREMENTAL'")
    (c,) = await claim(pool, worker_id="w", limit=1, lease_seconds=60, platforms=ALL)
    sibling = await jobs_db.fetchval(
        "INSERT INTO app_dashboard.sync_jobs (shop_id, platform, job_type, priority) "
        "VALUES ($1, 'SHOPIFY', 'HISTORICAL_REBUILD', 5) RETURNING id",
        shop,
    )
    assert await transitions.requeue(pool, c.job.id, c.job.lease_token, error={"code": "t"})
    merged, absorbed = await job_row(jobs_db, c.job.id), await job_row(jobs_db, sibling)
    assert (merged["status"], merged["job_type"], merged["priority"]) == (
        "QUEUED",
        "HISTORICAL_REBUILD",
        5,
    )
    assert absorbed["status"] == "CANCELLED"
    assert absorbed["error"]["code"] == "superseded"


async def test_a_long_fenced_transaction_does_not_block_the_heartbeat(
    jobs_db: asyncpg.Connection, pool: asyncpg.Pool
) -> None:
    """A whole transform runs in one fenced transaction; the lease must keep renewing meanwhile."""
    await add_shop(jobs_db, "long-fence")
    (claimed,) = await claim(pool, worker_id="w-1", limit=1, lease_seconds=60, platforms=ALL)
    ctx = RunContext(
        pool=pool, job=claimed.job, shop=claimed.shop, cursor={}, secrets={}, metadata={}
    )
    heartbeat = queries("app_dashboard")["heartbeat"]
    async with ctx.fenced():
        renewed = await asyncio.wait_for(
            pool.fetchval(heartbeat, claimed.job.id, claimed.job.lease_token, 60.0), timeout=5
        )
    assert renewed is False  # renewed (cancel_requested is false), not blocked by the fence


async def test_a_lease_lost_during_a_fenced_transaction_rolls_its_writes_back(
    jobs_db: asyncpg.Connection, pool: asyncpg.Pool
) -> None:
    shop = await add_shop(jobs_db, "lost-midway")
    (claimed,) = await claim(pool, worker_id="w-1", limit=1, lease_seconds=60, platforms=ALL)
    ctx = RunContext(
        pool=pool, job=claimed.job, shop=claimed.shop, cursor={}, secrets={}, metadata={}
    )

    async def write_then_lose_the_lease() -> None:
        async with ctx.fenced() as conn:
            await conn.execute(fakes.SQL["replace_chunk"], shop, "SHOPIFY", 1, claimed.job.id, 1)
            # Meanwhile the reaper requeued the job and another worker claimed it.
            await asyncio.wait_for(
                jobs_db.execute(
                    "UPDATE app_dashboard.sync_jobs SET lease_token = gen_random_uuid(), "
                    "worker_id = 'w-2' WHERE id = $1",
                    claimed.job.id,
                ),
                timeout=5,
            )

    with pytest.raises(LeaseLost):
        await write_then_lose_the_lease()
    assert await jobs_db.fetchval("SELECT count(*) FROM public.fake_rows") == 0


async def test_a_job_without_progress_is_stopped_and_retried(
    jobs_db: asyncpg.Connection, db_dsn: str
) -> None:
    """A connector silent for stall_seconds (no commit, no source answer, no statement running)
    goes back to the queue with a structured error instead of sitting under a live lease."""
    shop = await add_shop(jobs_db, "silent", rows=1, chunk_seconds=60)
    job_id = await only_job(jobs_db, shop)
    async with running_worker(db_dsn, fast_settings(stall_seconds=0.8)):

        async def stalled() -> object:
            return await jobs_db.fetchval(
                "SELECT detail->'error'->>'code' FROM app_dashboard.sync_job_events "
                "WHERE job_id = $1 AND from_status = 'IN_PROGRESS' AND to_status = 'QUEUED'",
                job_id,
            )

        assert await wait_until(stalled, within=5) == "job_stalled"


async def test_a_long_statement_is_progress_not_a_stall(
    jobs_db: asyncpg.Connection, db_dsn: str
) -> None:
    """A statement of the job running longer than stall_seconds (a big transform) is work."""
    shop = await add_shop(jobs_db, "busy", rows=1, busy_seconds=2.5)
    job_id = await only_job(jobs_db, shop)
    async with running_worker(db_dsn, fast_settings(stall_seconds=0.8)):

        async def finished() -> bool:
            return await status_of(jobs_db, job_id) == "SUCCEEDED"

        await wait_until(finished, within=10)
    assert (await job_row(jobs_db, job_id))["attempts"] == 1
