"""The batched paths keep every property of the per-job ones: one event per transition from the
statement-level triggers, a slot that frees before its completion commits without letting its
(shop, platform) run twice, and a held connection that survives losing its server."""

from __future__ import annotations

import asyncio

import asyncpg
import pytest

from storeline.core import db
from storeline.core.sql import queries
from storeline.platforms import SOURCES
from storeline.worker.jobs.claim import claim
from storeline.worker.jobs.completer import Completer
from storeline.worker.jobs.held import HeldConnection
from tests.worker.jobs import fakes
from tests.worker.jobs.conftest import (
    add_shop,
    fast_settings,
    only_job,
    running_worker,
    status_of,
    wait_until,
)

ALL = SOURCES


async def events(conn: asyncpg.Connection, job_id: int) -> list[tuple[str | None, str, int]]:
    rows = await conn.fetch(
        "SELECT from_status, to_status, attempt FROM app_dashboard.sync_job_events "
        "WHERE job_id = $1 ORDER BY id",
        job_id,
    )
    return [(r["from_status"], r["to_status"], r["attempt"]) for r in rows]


async def test_one_event_per_moved_row_whatever_the_statement_size(
    jobs_db: asyncpg.Connection, pool: asyncpg.Pool
) -> None:
    # One INSERT of three jobs, one claim of all three, one flush completing them.
    shops = [await add_shop(jobs_db, f"batch{i}", platforms=()) for i in range(3)]
    await jobs_db.execute(
        "INSERT INTO app_dashboard.sync_jobs (shop_id, platform, job_type) "
        "SELECT unnest($1::text[]), 'META', 'INCREMENTAL'",
        shops,
    )
    claims = await claim(pool, worker_id="w-batch", limit=3, lease_seconds=60, platforms=ALL)
    assert len(claims) == 3
    # A write that moves no status (the heartbeat) logs nothing.
    for c in claims:
        assert await jobs_db.fetchrow(
            queries("app_dashboard")["heartbeat"], c.job.id, c.job.lease_token, 60.0
        )

    completer = Completer(pool)
    completer.start()
    try:
        done = await asyncio.gather(
            *(completer.complete(c.job.id, c.job.lease_token, {"n": c.job.id}) for c in claims)
        )
    finally:
        await completer.close()
    assert done == [True, True, True]
    assert completer.flushes == 1

    for c in claims:
        assert await events(jobs_db, c.job.id) == [
            (None, "QUEUED", 0),
            ("QUEUED", "IN_PROGRESS", 1),
            ("IN_PROGRESS", "SUCCEEDED", 1),
        ]
        cursor = await jobs_db.fetchrow(
            "SELECT watermark, last_job_id FROM app_dashboard.sync_cursors "
            "WHERE shop_id = $1 AND platform = 'META'",
            c.job.shop_id,
        )
        assert cursor is not None
        assert (cursor["watermark"], cursor["last_job_id"]) == ({"n": c.job.id}, c.job.id)
    worker_ids = await jobs_db.fetch(
        "SELECT DISTINCT worker_id FROM app_dashboard.sync_job_events WHERE to_status <> 'QUEUED'"
    )
    assert [r["worker_id"] for r in worker_ids] == ["w-batch"]
    # The claim and the completion write their own events (revision 0007); what they say
    # matches the trigger's rows for every other transition.
    details = await jobs_db.fetch(
        "SELECT DISTINCT to_status, detail::text AS detail FROM app_dashboard.sync_job_events "
        "WHERE to_status <> 'QUEUED' ORDER BY to_status"
    )
    assert [(r["to_status"], r["detail"]) for r in details] == [
        ("IN_PROGRESS", '{"job_type": "INCREMENTAL"}'),
        ("SUCCEEDED", '{"job_type": "INCREMENTAL"}'),
    ]


async def test_a_slot_frees_before_its_completion_commits_but_the_key_stays_busy(
    jobs_db: asyncpg.Connection, db_dsn: str
) -> None:
    first = await add_shop(jobs_db, "first", rows=0)
    second = await add_shop(jobs_db, "second", rows=0)
    first_job = await only_job(jobs_db, first)
    second_job = await only_job(jobs_db, second)
    # Hold first's cursor row: its completion (which advances that cursor) waits on the lock.
    await jobs_db.execute(
        "INSERT INTO app_dashboard.sync_cursors (shop_id, platform) VALUES ($1, 'SHOPIFY')", first
    )
    blocker = jobs_db.transaction()
    await blocker.start()
    released = False
    try:
        await jobs_db.execute(
            "SELECT 1 FROM app_dashboard.sync_cursors WHERE shop_id = $1 FOR UPDATE", first
        )
        other = await db.connect(db_dsn)
        # A long lease: the heartbeat of the blocked job waits on its row as well.
        settings = fast_settings(slots=1, lease_seconds=20.0)
        try:
            async with running_worker(db_dsn, settings) as worker:
                # One slot, yet both jobs hold a lease: the first one's connector returned and
                # its completion waits; the slot went to the second job.
                async def both_running() -> bool:
                    statuses = {await status_of(other, j) for j in (first_job, second_job)}
                    return statuses == {"IN_PROGRESS"}

                await wait_until(both_running)
                assert worker.busy == 0
                assert len(worker.running) == 2
                # A new job for the first key stays QUEUED while its predecessor is unfinished.
                again = await other.fetchval(
                    queries("app_dashboard")["enqueue_job"],
                    first,
                    "SHOPIFY",
                    "INCREMENTAL",
                    100,
                    None,
                )
                await asyncio.sleep(1.0)  # five poll intervals of claims
                assert await status_of(other, again) == "QUEUED"

                await blocker.rollback()
                released = True
                for job in (first_job, second_job, again):
                    await wait_until(lambda job=job: _succeeded(other, job))
        finally:
            await other.close()
    finally:
        if not released:
            await blocker.rollback()
    assert fakes.OVERLAPS == []
    assert (
        await jobs_db.fetchval(
            "SELECT last_job_id FROM app_dashboard.sync_cursors "
            "WHERE shop_id = $1 AND platform = 'SHOPIFY'",
            first,
        )
        == again
    )


async def _succeeded(conn: asyncpg.Connection, job_id: int) -> bool:
    return await status_of(conn, job_id) == "SUCCEEDED"


async def test_held_connection_takes_a_fresh_one_after_losing_its_server(
    conn: asyncpg.Connection, pool: asyncpg.Pool
) -> None:
    held = HeldConnection(pool)
    try:
        (row,) = await held.fetch("SELECT pg_backend_pid() AS pid")
        assert (await held.fetch("SELECT pg_backend_pid() AS pid"))[0]["pid"] == row["pid"]
        await conn.execute("SELECT pg_terminate_backend($1)", row["pid"])
        # asyncpg reports a server gone mid-statement in several ways, depending on timing.
        lost = (asyncpg.PostgresError, asyncpg.InterfaceError, asyncpg.InternalClientError, OSError)
        with pytest.raises(lost):
            await held.fetch("SELECT 1")
        (fresh,) = await held.fetch("SELECT pg_backend_pid() AS pid")
        assert fresh["pid"] != row["pid"]
    finally:
        await held.release()
