"""Sync requests, status and cancellation over HTTP: idempotent per (shop, platform), RLS-scoped."""

from __future__ import annotations

import asyncpg
import httpx
import pytest

from tests.api.conftest import A_OWNER, A_STAFF, B_OWNER, Token
from tests.api.test_platforms import A1, A2, B1, auth, mark_running
from tests.worker.jobs import fakes
from tests.worker.jobs.conftest import fast_settings, running_worker, wait_until


async def queued(conn: asyncpg.Connection, shop: str = A1) -> list[asyncpg.Record]:
    return await conn.fetch(
        "SELECT id, platform, job_type, requested_by FROM app_dashboard.sync_jobs "
        "WHERE shop_id = $1 AND status = 'QUEUED' ORDER BY id",
        shop,
    )


async def test_a_request_joins_the_waiting_job_and_only_ever_strengthens_it(
    api: httpx.AsyncClient, token: Token, conn: asyncpg.Connection
) -> None:
    [backfill] = await queued(conn)
    url, headers = f"/api/shops/{A1}/sync", auth(token, A_STAFF)
    # The fixture's HISTORICAL_INIT waits: an incremental request joins it unchanged.
    r = await api.post(url, json={}, headers=headers)
    assert r.status_code == 202, r.text
    assert r.json()["jobs"] == [
        {
            "platform": "SHOPIFY",
            "job_id": backfill["id"],
            "job_type": "HISTORICAL_INIT",
            "status": "QUEUED",
            "already_queued": True,
            "upgraded": False,
        }
    ]
    # Once it runs, a request queues a new job as the caller; asking again returns that job.
    await mark_running(conn, backfill["id"])
    first = await api.post(url, json={"platforms": ["shopify"]}, headers=headers)
    second = await api.post(url, json={"platforms": ["shopify", "SHOPIFY"]}, headers=headers)
    assert (first.status_code, second.status_code) == (202, 202), second.text
    [new] = first.json()["jobs"]
    [same] = second.json()["jobs"]
    assert (new["already_queued"], new["job_type"]) == (False, "INCREMENTAL")
    assert (same["job_id"], same["already_queued"]) == (new["job_id"], True)
    [row] = await queued(conn)
    assert (row["id"], row["requested_by"]) == (new["job_id"], A_STAFF)
    # A rebuild upgrades the waiting incremental in place; a later incremental does not undo it.
    rebuild = await api.post(url, json={"job_type": "HISTORICAL_REBUILD"}, headers=headers)
    assert rebuild.json()["jobs"][0]["job_id"] == new["job_id"]
    assert rebuild.json()["jobs"][0]["upgraded"] is True
    weaker = await api.post(url, json={"job_type": "INCREMENTAL"}, headers=headers)
    assert weaker.json()["jobs"][0]["job_type"] == "HISTORICAL_REBUILD"
    assert weaker.json()["jobs"][0]["upgraded"] is False
    [row] = await queued(conn)
    assert (row["id"], row["job_type"]) == (new["job_id"], "HISTORICAL_REBUILD")


async def test_the_default_is_every_connected_platform_ready_to_sync(
    api: httpx.AsyncClient, token: Token, conn: asyncpg.Connection
) -> None:
    headers = auth(token, A_OWNER)
    body = {"secrets": {"access_token": "hs-token"}}
    r = await api.post(f"/api/shops/{A1}/platforms/hubspot/connect", json=body, headers=headers)
    assert r.status_code == 202, r.text
    r = await api.post(f"/api/shops/{A1}/platforms/meta/connect", json=body, headers=headers)
    assert r.status_code == 202, r.text
    await conn.execute(
        "UPDATE app_dashboard.shop_credentials SET status = 'NEEDS_REAUTH' WHERE platform = 'META'"
    )
    # No body at all: the same as {}.
    r = await api.post(f"/api/shops/{A1}/sync", headers=headers)
    assert r.status_code == 202, r.text
    assert [j["platform"] for j in r.json()["jobs"]] == ["HUBSPOT", "SHOPIFY"]
    # Asked for by name, a credential that needs re-authorization is a conflict naming it.
    r = await api.post(f"/api/shops/{A1}/sync", json={"platforms": ["meta"]}, headers=headers)
    assert r.status_code == 409, r.text
    assert "meta" in r.json()["detail"]


async def test_unconnected_or_unknown_requests_write_nothing(
    api: httpx.AsyncClient, token: Token, conn: asyncpg.Connection
) -> None:
    before = await conn.fetchval("SELECT count(*) FROM app_dashboard.sync_jobs")
    headers = auth(token, A_OWNER)
    cases = [
        (A1, {"platforms": ["shopify", "ga4"]}, 409, "ga4"),
        (A2, {}, 409, "no connected platform"),  # a2 has nothing connected
        (A1, {"platforms": ["tiktok"]}, 400, "platforms"),
        (A1, {"job_type": "HISTORICAL_INIT"}, 400, "job_type"),
        (A1, {"job_type": "bogus"}, 400, "job_type"),
        (A1, {"platform": ["shopify"]}, 400, "platform"),
        (B1, {}, 404, B1),
    ]
    for shop, body, status, mentions in cases:
        r = await api.post(f"/api/shops/{shop}/sync", json=body, headers=headers)
        assert r.status_code == status, (body, r.text)
        assert r.headers["content-type"].startswith("application/problem+json")
        assert mentions in r.text
    # Staff see a1 only; another agency sees neither.
    for user, shop in ((A_STAFF, A2), (B_OWNER, A1)):
        r = await api.post(f"/api/shops/{shop}/sync", json={}, headers=auth(token, user))
        assert r.status_code == 404, r.text
    assert await conn.fetchval("SELECT count(*) FROM app_dashboard.sync_jobs") == before


async def test_sync_status_shows_platforms_and_the_last_twenty_jobs(
    api: httpx.AsyncClient, token: Token, conn: asyncpg.Connection
) -> None:
    await conn.execute(
        "INSERT INTO app_dashboard.sync_jobs (shop_id, platform, job_type, status, completed_at, "
        "records_synced, created_at) SELECT $1, 'SHOPIFY', 'INCREMENTAL', 'SUCCEEDED', now(), n, "
        "now() - n * interval '1 hour' FROM generate_series(1, 25) AS n",
        A1,
    )
    r = await api.get(f"/api/shops/{A1}/sync-status", headers=auth(token, A_STAFF))
    assert r.status_code == 200, r.text
    out = r.json()
    assert out["shop_id"] == A1
    [shopify] = out["platforms"]
    assert (shopify["platform"], shopify["last_job"]["type"]) == ("SHOPIFY", "HISTORICAL_INIT")
    jobs = out["recent_jobs"]
    assert len(jobs) == 20
    assert (jobs[0]["job_type"], jobs[0]["status"]) == ("HISTORICAL_INIT", "QUEUED")
    assert [j["records_synced"] for j in jobs[1:]] == list(range(1, 20))
    assert set(jobs[0]) >= {"id", "platform", "attempts", "error", "started_at", "completed_at"}
    assert "ciphertext" not in r.text
    assert "shpat_" not in r.text
    for user, shop in ((B_OWNER, A1), (A_STAFF, A2), (A_OWNER, "nope.myshopify.com")):
        r = await api.get(f"/api/shops/{shop}/sync-status", headers=auth(token, user))
        assert r.status_code == 404, r.text


@pytest.mark.parametrize("running", [False, True])
async def test_cancel_flags_a_live_job_and_refuses_an_ended_one(
    api: httpx.AsyncClient, token: Token, conn: asyncpg.Connection, running: bool
) -> None:
    [job] = await queued(conn)
    if running:
        await mark_running(conn, job["id"])
    url = f"/api/shops/{A1}/sync/{job['id']}/cancel"
    # Invisible to other agencies, and a job id is only valid under its own shop.
    for user, path in (
        (B_OWNER, url),
        (A_OWNER, f"/api/shops/{A2}/sync/{job['id']}/cancel"),
        (A_OWNER, f"/api/shops/{A1}/sync/999999/cancel"),
    ):
        r = await api.post(path, headers=auth(token, user))
        assert r.status_code == 404, (user, path, r.text)
    assert not await conn.fetchval(
        "SELECT cancel_requested FROM app_dashboard.sync_jobs WHERE id = $1", job["id"]
    )
    r = await api.post(url, headers=auth(token, A_STAFF))
    assert r.status_code == 202, r.text
    assert r.json() == {
        "job_id": job["id"],
        "status": "IN_PROGRESS" if running else "QUEUED",
        "cancel_requested": True,
    }
    assert await conn.fetchval(
        "SELECT cancel_requested FROM app_dashboard.sync_jobs WHERE id = $1", job["id"]
    )
    # A new request is not answered with the job that will never run: it gets a fresh one.
    fresh = await api.post(f"/api/shops/{A1}/sync", json={}, headers=auth(token, A_STAFF))
    [requested] = fresh.json()["jobs"]
    assert requested["job_id"] != job["id"]
    assert requested["already_queued"] is False
    # Once the job has ended, cancelling it is a conflict.
    await conn.execute(
        "UPDATE app_dashboard.sync_jobs SET status = 'CANCELLED', lease_token = NULL, "
        "lease_expires_at = NULL WHERE id = $1",
        job["id"],
    )
    r = await api.post(url, headers=auth(token, A_STAFF))
    assert r.status_code == 409, r.text
    assert "CANCELLED" in r.json()["detail"]


async def test_a_rebuild_joining_a_spent_incremental_gets_a_fresh_budget_and_runs(
    api: httpx.AsyncClient, token: Token, conn: asyncpg.Connection, db_dsn: str
) -> None:
    """The waiting INCREMENTAL has one attempt left (five failed against a flaky upstream). A
    rebuild requested now takes the job over with all six: one more failure is retried."""
    [job] = await queued(conn)
    await conn.execute(
        "UPDATE app_dashboard.sync_jobs SET job_type = 'INCREMENTAL', attempts = max_attempts - 1 "
        "WHERE id = $1",
        job["id"],
    )
    await conn.execute(fakes.SQL["create_fake_rows"])
    await conn.execute(
        "UPDATE app_dashboard.shop_credentials SET metadata = $2 WHERE shop_id = $1",
        A1,
        {"fail": "transient", "fail_runs": 1},  # the fake connector fails the first run
    )
    r = await api.post(
        f"/api/shops/{A1}/sync",
        json={"job_type": "HISTORICAL_REBUILD"},
        headers=auth(token, A_STAFF),
    )
    assert r.status_code == 202, r.text
    [joined] = r.json()["jobs"]
    assert (joined["job_id"], joined["upgraded"]) == (job["id"], True)

    async def ended() -> str | None:
        status = await conn.fetchval(
            "SELECT status FROM app_dashboard.sync_jobs WHERE id = $1 "
            "AND status IN ('SUCCEEDED', 'FAILED', 'CANCELLED')",
            job["id"],
        )
        return str(status) if status else None

    async with running_worker(db_dsn, fast_settings()):
        outcome = await wait_until(ended, within=15)
    row = await conn.fetchrow(
        "SELECT job_type, attempts FROM app_dashboard.sync_jobs WHERE id = $1", job["id"]
    )
    assert row is not None
    assert (outcome, row["job_type"], row["attempts"]) == ("SUCCEEDED", "HISTORICAL_REBUILD", 2)
    # The history shows the upgrade as its own event, with its cause and the budget it reset.
    upgrade = await conn.fetchrow(
        "SELECT attempt, detail FROM app_dashboard.sync_job_events "
        "WHERE job_id = $1 AND from_status = 'QUEUED' AND to_status = 'QUEUED'",
        job["id"],
    )
    assert upgrade is not None
    assert upgrade["attempt"] == 0
    assert upgrade["detail"]["upgraded_from"] == "INCREMENTAL"
    assert upgrade["detail"]["reason"] == "upgraded: a HISTORICAL_REBUILD request joined it"


async def test_a_weaker_or_equal_request_leaves_the_budget_alone(
    api: httpx.AsyncClient, token: Token, conn: asyncpg.Connection
) -> None:
    [job] = await queued(conn)
    await conn.execute(
        "UPDATE app_dashboard.sync_jobs SET job_type = 'HISTORICAL_REBUILD', attempts = 3 "
        "WHERE id = $1",
        job["id"],
    )
    count = "SELECT count(*) FROM app_dashboard.sync_job_events WHERE job_id = $1"
    logged = await conn.fetchval(count, job["id"])
    url, headers = f"/api/shops/{A1}/sync", auth(token, A_STAFF)
    for job_type in ("INCREMENTAL", "HISTORICAL_REBUILD"):
        r = await api.post(url, json={"job_type": job_type}, headers=headers)
        assert r.json()["jobs"][0]["upgraded"] is False, r.text
    attempts = "SELECT attempts FROM app_dashboard.sync_jobs WHERE id = $1"
    assert await conn.fetchval(attempts, job["id"]) == 3
    assert await conn.fetchval(count, job["id"]) == logged  # nothing happened to the job
