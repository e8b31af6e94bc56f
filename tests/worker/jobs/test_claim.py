"""Claiming: up to the free slots, a fresh lease per job, one run per (shop, platform)."""

from __future__ import annotations

import asyncio
import random

import asyncpg

from storeline.core.enums import JobType, Platform
from storeline.core.sql import queries
from storeline.platforms import SOURCES
from storeline.worker.jobs.claim import claim
from tests.worker.jobs import fakes
from tests.worker.jobs.conftest import add_shop, fast_settings, running_worker, wait_until

ALL = SOURCES


async def test_claim_leases_up_to_limit_with_fresh_tokens(
    jobs_db: asyncpg.Connection, pool: asyncpg.Pool
) -> None:
    for i in range(5):
        await add_shop(jobs_db, f"shop{i}")
    first = await claim(pool, worker_id="w-a", limit=3, lease_seconds=60, platforms=ALL)
    second = await claim(pool, worker_id="w-b", limit=3, lease_seconds=60, platforms=ALL)
    third = await claim(pool, worker_id="w-b", limit=3, lease_seconds=60, platforms=ALL)

    assert (len(first), len(second), len(third)) == (3, 2, 0)
    claimed = first + second
    assert len({c.job.id for c in claimed}) == 5
    assert len({c.job.lease_token for c in claimed}) == 5
    assert all(c.job.attempts == 1 and c.job.job_type is JobType.HISTORICAL_INIT for c in claimed)
    assert all(c.shop.timezone == "Europe/Berlin" and c.cursor == {} for c in claimed)
    rows = await jobs_db.fetch(
        "SELECT status, worker_id, lease_expires_at > now() + interval '50 s' AS leased "
        "FROM app_dashboard.sync_jobs"
    )
    assert {(r["status"], r["leased"]) for r in rows} == {("IN_PROGRESS", True)}
    assert sorted(r["worker_id"] for r in rows) == ["w-a"] * 3 + ["w-b"] * 2
    events = await jobs_db.fetch(
        "SELECT from_status, to_status, attempt FROM app_dashboard.sync_job_events "
        "WHERE job_id = $1 ORDER BY id",
        claimed[0].job.id,
    )
    assert [tuple(e) for e in events] == [(None, "QUEUED", 0), ("QUEUED", "IN_PROGRESS", 1)]


async def test_claim_skips_a_key_that_is_already_running(
    jobs_db: asyncpg.Connection, pool: asyncpg.Pool
) -> None:
    shop = await add_shop(jobs_db, "busy")
    (running,) = await claim(pool, worker_id="w", limit=5, lease_seconds=60, platforms=ALL)
    queued = await jobs_db.fetchval(
        queries("app_dashboard")["enqueue_job"], shop, "SHOPIFY", "INCREMENTAL", 100, None
    )
    assert queued is not None  # one QUEUED beside one IN_PROGRESS is allowed ...
    assert await claim(pool, worker_id="w2", limit=5, lease_seconds=60, platforms=ALL) == []
    assert running.job.shop_id == shop  # ... but it waits until the running one ends


async def test_claim_takes_only_platforms_the_worker_runs(
    jobs_db: asyncpg.Connection, pool: asyncpg.Pool
) -> None:
    await add_shop(jobs_db, "multi", (Platform.SHOPIFY, Platform.META))
    got = await claim(pool, worker_id="w", limit=5, lease_seconds=60, platforms=[Platform.META])
    assert [c.job.platform for c in got] == [Platform.META]


async def test_enqueue_is_idempotent(jobs_db: asyncpg.Connection) -> None:
    shop = await add_shop(jobs_db, "idem")  # HISTORICAL_INIT already queued
    q = queries("app_dashboard")["enqueue_job"]
    again = [await jobs_db.fetchval(q, shop, "SHOPIFY", "INCREMENTAL", 100, None) for _ in range(3)]
    assert again == [None, None, None]
    assert await jobs_db.fetchval("SELECT count(*) FROM app_dashboard.sync_jobs") == 1


async def test_two_workers_racing_never_run_one_key_twice(
    jobs_db: asyncpg.Connection, db_dsn: str
) -> None:
    """Two workers, 4 slots each, 12 keys, and an enqueuer re-queuing keys while they run."""
    shops = [
        await add_shop(
            jobs_db, f"race{i}", (Platform.SHOPIFY, Platform.GA4), rows=2, chunk_seconds=0.01
        )
        for i in range(6)
    ]
    settings = fast_settings(slots=4)
    q = queries("app_dashboard")["enqueue_job"]
    rng = random.Random(7)
    async with (
        running_worker(db_dsn, settings, worker_id="w-one") as one,
        running_worker(db_dsn, settings, worker_id="w-two") as two,
    ):
        enqueued = 0
        for _ in range(60):
            shop, platform = rng.choice(shops), rng.choice(["SHOPIFY", "GA4"])
            enqueued += (
                await jobs_db.fetchval(q, shop, platform, "INCREMENTAL", 100, None) is not None
            )
            await asyncio.sleep(0.02)

        async def drained() -> bool:
            n = await jobs_db.fetchval(
                "SELECT count(*) FROM app_dashboard.sync_jobs WHERE status <> 'SUCCEEDED'"
            )
            return n == 0

        await wait_until(drained, within=20)
    assert fakes.OVERLAPS == []
    assert one.stats["succeeded"] + two.stats["succeeded"] == 12 + enqueued
    assert one.stats["succeeded"] > 0
    assert two.stats["succeeded"] > 0
    assert one.stats["claim_errors"] == two.stats["claim_errors"] == 0
    # The database agrees: no two IN_PROGRESS intervals of one key overlap in the event history.
    # Intervals are measured in event ids, not `at`: `at` is now(), the transaction's start,
    # and a claim's transaction may start a few µs before the completion it then sees committed
    # (its snapshot is taken later). Event ids are drawn in causal order: a claim that depended
    # on a completion being visible draws its id after that completion committed.
    overlapping = await jobs_db.fetchval(
        """
        WITH runs AS (
            SELECT e.job_id, e.shop_id, e.platform, e.id AS started,
                   (SELECT min(x.id) FROM app_dashboard.sync_job_events x
                    WHERE x.job_id = e.job_id AND x.id > e.id) AS ended
            FROM app_dashboard.sync_job_events e WHERE e.to_status = 'IN_PROGRESS')
        SELECT count(*) FROM runs a JOIN runs b
          ON a.shop_id = b.shop_id AND a.platform = b.platform AND a.job_id < b.job_id
         AND a.started < b.ended AND b.started < a.ended
        """
    )
    assert overlapping == 0
