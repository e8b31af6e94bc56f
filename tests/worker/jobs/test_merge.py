"""Merged requests: a stronger request joining an existing job gets a fresh attempt budget, and
every event of the merge names its real cause (not the cause of the statement beside it).

The paths by which a request joins a job: a retry or a reaped lease absorbing the job queued
meanwhile (transitions.requeue), an enqueue meeting a queued job (enqueue_job, as saving a
credential does), and the API's sync request and connect (tests/api/test_sync.py,
tests/api/test_platforms.py)."""

from __future__ import annotations

import asyncpg

from storeline.core import credentials
from storeline.core.enums import Platform
from storeline.core.sql import queries
from storeline.platforms import SOURCES
from storeline.worker.jobs import transitions
from storeline.worker.jobs.claim import claim
from storeline.worker.jobs.reaper import reap_once
from tests.worker.jobs.conftest import (
    SECRETS,
    add_shop,
    fast_settings,
    job_row,
    only_job,
    running_worker,
    status_of,
    wait_until,
)

ALL = SOURCES
# A fetch step an INCREMENTAL recorded: a rebuild must not skip its own export because of it.
INCREMENTAL_STEP = {"pages": {"done": True, "orders": 3}}
SPENT_ERROR = {
    "code": "upstream_unavailable",
    "message": "upstream returned 503",
    "task": "fetch",
    "retryable": True,
}


async def spend_attempts(conn: asyncpg.Connection, job_id: int, left: int) -> None:
    """The job is an INCREMENTAL back in the queue with only `left` of its attempts left."""
    await conn.execute(
        "UPDATE app_dashboard.sync_jobs SET job_type = 'INCREMENTAL', "
        "attempts = max_attempts - $2, error = $3 WHERE id = $1",
        job_id,
        left,
        SPENT_ERROR,
    )


async def events(conn: asyncpg.Connection, job_id: int) -> list[asyncpg.Record]:
    return await conn.fetch(
        "SELECT from_status, to_status, attempt, detail FROM app_dashboard.sync_job_events "
        "WHERE job_id = $1 ORDER BY id",
        job_id,
    )


async def ended(conn: asyncpg.Connection, job_id: int) -> str | None:
    status = await status_of(conn, job_id)
    return status if status in ("SUCCEEDED", "FAILED", "CANCELLED") else None


async def enqueue(conn: asyncpg.Connection, shop: str, job_type: str) -> int | None:
    q = queries("app_dashboard")["enqueue_job"]
    job_id: int | None = await conn.fetchval(q, shop, "SHOPIFY", job_type, 50, None)
    return job_id


def assert_superseded(trail: list[asyncpg.Record], merged_into: int) -> None:
    """A job absorbed by another: QUEUED → CANCELLED, and the event says why."""
    assert [(e["from_status"], e["to_status"]) for e in trail] == [
        (None, "QUEUED"),
        ("QUEUED", "CANCELLED"),
    ]
    detail = trail[-1]["detail"]
    assert detail["error"]["code"] == "superseded"
    assert detail["reason"] == f"superseded: merged into job {merged_into}"


async def test_a_retry_that_absorbs_a_rebuild_gives_the_rebuild_a_fresh_budget(
    jobs_db: asyncpg.Connection, db_dsn: str
) -> None:
    # An INCREMENTAL on its last but one attempt fails again; a rebuild asked for while it ran
    # is absorbed by the retry. The upstream fails once more: the rebuild must still retry.
    shop = await add_shop(
        jobs_db, "absorbs", rows=6, chunk_seconds=0.1, fail="transient", fail_runs=2
    )
    job_id = await only_job(jobs_db, shop)
    await spend_attempts(jobs_db, job_id, left=2)
    async with running_worker(db_dsn, fast_settings()):
        await wait_until(lambda: _status_is(jobs_db, job_id, "IN_PROGRESS"))
        rebuild = await enqueue(jobs_db, shop, "HISTORICAL_REBUILD")
        assert rebuild is not None
        outcome = await wait_until(lambda: ended(jobs_db, job_id), within=15)
    row = await job_row(jobs_db, job_id)
    assert (outcome, row["job_type"], row["attempts"]) == ("SUCCEEDED", "HISTORICAL_REBUILD", 2)
    assert_superseded(await events(jobs_db, rebuild), merged_into=job_id)
    # The retry that took the rebuild over says so, and starts the count again.
    requeued = [e for e in await events(jobs_db, job_id) if e["from_status"] == "IN_PROGRESS"]
    first_retry = requeued[0]
    assert (first_retry["to_status"], first_retry["attempt"]) == ("QUEUED", 0)
    assert first_retry["detail"]["job_type"] == "HISTORICAL_REBUILD"
    assert first_retry["detail"]["upgraded_from"] == "INCREMENTAL"


async def test_a_reaped_job_that_absorbs_a_rebuild_names_each_cause(
    jobs_db: asyncpg.Connection, pool: asyncpg.Pool, db_dsn: str
) -> None:
    shop = await add_shop(jobs_db, "reaped", fail="transient", fail_runs=2)
    job_id = await only_job(jobs_db, shop)
    await spend_attempts(jobs_db, job_id, left=2)
    await jobs_db.execute(
        "UPDATE app_dashboard.sync_jobs SET progress = $2 WHERE id = $1", job_id, INCREMENTAL_STEP
    )
    (c,) = await claim(pool, worker_id="w-victim", limit=1, lease_seconds=60, platforms=ALL)
    rebuild = await enqueue(jobs_db, shop, "HISTORICAL_REBUILD")
    assert rebuild is not None
    await jobs_db.execute(
        "UPDATE app_dashboard.sync_jobs SET lease_expires_at = now() - interval '1 s' "
        "WHERE id = $1",
        c.job.id,
    )
    reaped = await reap_once(pool, fast_settings(), worker_id="w-reaper")
    assert reaped.requeued == 1
    # The absorbed rebuild was superseded, not reaped: its event says so.
    trail = await events(jobs_db, rebuild)
    assert_superseded(trail, merged_into=job_id)
    assert "reaped" not in trail[-1]["detail"]["reason"]
    # The reaped job's own event names the reaper, and the type it took over.
    back = (await events(jobs_db, job_id))[-1]
    assert (back["from_status"], back["to_status"], back["attempt"]) == ("IN_PROGRESS", "QUEUED", 0)
    assert back["detail"]["reason"] == "lease expired; reaped by w-reaper"
    assert back["detail"]["upgraded_from"] == "INCREMENTAL"
    assert (await job_row(jobs_db, job_id))["progress"] == {}  # nothing of the incremental's
    # The rebuild runs with a whole budget: the next run fails too, the one after succeeds.
    async with running_worker(db_dsn, fast_settings()):
        outcome = await wait_until(lambda: ended(jobs_db, job_id), within=15)
    row = await job_row(jobs_db, job_id)
    assert (outcome, row["job_type"], row["attempts"]) == ("SUCCEEDED", "HISTORICAL_REBUILD", 2)


async def test_a_retry_absorbing_an_equal_request_keeps_counting(
    jobs_db: asyncpg.Connection, pool: asyncpg.Pool
) -> None:
    """Only a stronger request resets the budget: a job that keeps failing still ends."""
    shop = await add_shop(jobs_db, "equal")
    job_id = await only_job(jobs_db, shop)
    await spend_attempts(jobs_db, job_id, left=2)
    (c,) = await claim(pool, worker_id="w", limit=1, lease_seconds=60, platforms=ALL)
    sibling = await enqueue(jobs_db, shop, "INCREMENTAL")
    assert sibling is not None
    assert await transitions.requeue(pool, c.job.id, c.job.lease_token, error=SPENT_ERROR)
    row = await job_row(jobs_db, job_id)
    assert (row["status"], row["job_type"], row["attempts"]) == ("QUEUED", "INCREMENTAL", 5)
    assert_superseded(await events(jobs_db, sibling), merged_into=job_id)
    back = (await events(jobs_db, job_id))[-1]
    assert "upgraded_from" not in back["detail"]
    assert "reason" not in back["detail"]  # a retry: its error says why


async def test_a_retry_does_not_absorb_a_request_someone_cancelled(
    jobs_db: asyncpg.Connection, pool: asyncpg.Pool
) -> None:
    """A rebuild asked for and then cancelled before the reaper swept it lends nothing: it ends
    cancelled, and its event says that, not superseded."""
    shop = await add_shop(jobs_db, "cancelled")
    job_id = await only_job(jobs_db, shop)
    await spend_attempts(jobs_db, job_id, left=2)
    await jobs_db.execute(
        "UPDATE app_dashboard.sync_jobs SET progress = $2 WHERE id = $1", job_id, INCREMENTAL_STEP
    )
    (c,) = await claim(pool, worker_id="w", limit=1, lease_seconds=60, platforms=ALL)
    sibling = await enqueue(jobs_db, shop, "HISTORICAL_REBUILD")
    await jobs_db.execute(
        "UPDATE app_dashboard.sync_jobs SET cancel_requested = true WHERE id = $1", sibling
    )
    assert await transitions.requeue(
        pool, c.job.id, c.job.lease_token, delay=0, reason="released: worker shutting down"
    )
    row = await job_row(jobs_db, job_id)
    assert (row["job_type"], row["attempts"], row["progress"]) == (
        "INCREMENTAL",
        5,
        INCREMENTAL_STEP,
    )
    assert sibling is not None
    absorbed = await job_row(jobs_db, sibling)
    assert (absorbed["status"], absorbed["error"]["code"]) == ("CANCELLED", "cancelled")
    trail = await events(jobs_db, sibling)
    assert trail[-1]["detail"]["reason"] == "cancel requested before it ran"
    back = (await events(jobs_db, job_id))[-1]
    assert back["detail"]["reason"] == "released: worker shutting down"


async def test_saving_a_credential_upgrades_a_spent_queued_incremental(
    jobs_db: asyncpg.Connection, db_dsn: str
) -> None:
    """Reconnecting queues the platform's HISTORICAL_INIT; an INCREMENTAL already waiting (with
    most of its attempts spent) becomes that backfill instead of swallowing it."""
    shop = await add_shop(jobs_db, "reconnects", fail="transient", fail_runs=1)
    job_id = await only_job(jobs_db, shop)
    await spend_attempts(jobs_db, job_id, left=1)
    saved = await credentials.save(
        jobs_db,
        shop_id=shop,
        platform=Platform.SHOPIFY,
        secrets=SECRETS[Platform.SHOPIFY],
        metadata={"fail": "transient", "fail_runs": 1},
    )
    assert saved == job_id
    row = await job_row(jobs_db, job_id)
    assert (row["status"], row["job_type"], row["attempts"]) == ("QUEUED", "HISTORICAL_INIT", 0)
    upgrade = (await events(jobs_db, job_id))[-1]
    assert (upgrade["from_status"], upgrade["to_status"], upgrade["attempt"]) == (
        "QUEUED",
        "QUEUED",
        0,
    )
    assert upgrade["detail"]["upgraded_from"] == "INCREMENTAL"
    assert upgrade["detail"]["reason"] == "upgraded: a HISTORICAL_INIT request joined it"
    # A weaker request changes nothing and says nothing.
    assert await enqueue(jobs_db, shop, "INCREMENTAL") is None
    assert len(await events(jobs_db, job_id)) == 2
    async with running_worker(db_dsn, fast_settings()):
        outcome = await wait_until(lambda: ended(jobs_db, job_id), within=15)
    row = await job_row(jobs_db, job_id)
    assert (outcome, row["job_type"], row["attempts"]) == ("SUCCEEDED", "HISTORICAL_INIT", 2)


async def _status_is(conn: asyncpg.Connection, job_id: int, status: str) -> bool:
    return await status_of(conn, job_id) == status
