"""Connecting and disconnecting platforms over HTTP: sealed at rest, one backfill, no leaks."""

from __future__ import annotations

import uuid

import asyncpg
import httpx
import pytest

from storeline.core import credentials
from storeline.core.enums import Platform
from tests.api.conftest import A_OWNER, A_STAFF, A_STORE, B_OWNER, Token

STORE_USER = A_STORE  # a client's own login: linked to a1, may not manage its connections
A1, A2, B1 = "a1.myshopify.com", "a2.myshopify.com", "b1.myshopify.com"


def auth(token: Token, user: uuid.UUID) -> dict[str, str]:
    return {"Authorization": f"Bearer {token(user)}"}


async def mark_running(conn: asyncpg.Connection, job_id: int) -> None:
    """What a worker's claim does to a job, as far as the API can tell."""
    await conn.execute(
        "UPDATE app_dashboard.sync_jobs SET status = 'IN_PROGRESS', lease_token = "
        "gen_random_uuid(), lease_expires_at = now() + interval '1 minute' WHERE id = $1",
        job_id,
    )


async def writes(conn: asyncpg.Connection, platform: str) -> tuple[int, int]:
    """(credentials, jobs) of a platform across every shop."""
    row = await conn.fetchrow(
        "SELECT (SELECT count(*) FROM app_dashboard.shop_credentials WHERE platform = $1) AS c, "
        "(SELECT count(*) FROM app_dashboard.sync_jobs WHERE platform = $1) AS j",
        platform,
    )
    assert row is not None
    return row["c"], row["j"]


async def test_connect_seals_the_credential_and_queues_one_backfill(
    api: httpx.AsyncClient, token: Token, conn: asyncpg.Connection
) -> None:
    body = {"secrets": {"access_token": "meta-first-token"}, "metadata": {"ad_account_ids": ["1"]}}
    r = await api.post(
        f"/api/shops/{A1}/platforms/meta/connect", json=body, headers=auth(token, A_STAFF)
    )
    assert r.status_code == 202, r.text
    out = r.json()
    assert out["shop_id"] == A1
    status = out["platform"]
    assert (status["platform"], status["credential_status"]) == ("META", "OK")
    assert status["account"] == {"ad_account_ids": ["1"]}
    assert status["last_job"]["id"] == out["job_id"]
    assert (status["last_job"]["type"], status["last_job"]["status"]) == (
        "HISTORICAL_INIT",
        "QUEUED",
    )
    assert "meta-first-token" not in r.text
    # The worker's side unseals exactly what was sent; the row itself holds only ciphertext.
    saved = await credentials.load(conn, shop_id=A1, platform=Platform.META)
    assert saved is not None
    assert dict(saved.secrets) == {"access_token": "meta-first-token"}
    raw = await conn.fetchval(
        "SELECT ciphertext FROM app_dashboard.shop_credentials WHERE platform = 'META'"
    )
    assert b"meta-first-token" not in raw
    job = await conn.fetchrow("SELECT * FROM app_dashboard.sync_jobs WHERE id = $1", out["job_id"])
    assert job is not None
    assert (job["requested_by"], job["priority"]) == (A_STAFF, 10)

    # Reconnecting (any case in the path) replaces the token, revives a NEEDS_REAUTH credential and
    # returns the backfill already queued instead of queueing another.
    await conn.execute(
        "UPDATE app_dashboard.shop_credentials SET status = 'NEEDS_REAUTH', status_reason = 'x' "
        "WHERE platform = 'META'"
    )
    for path, secret in (("META", "meta-second-token"), ("meta", "meta-third-token")):
        body["secrets"] = {"access_token": secret}
        again = await api.post(
            f"/api/shops/{A1}/platforms/{path}/connect", json=body, headers=auth(token, A_OWNER)
        )
        assert again.status_code == 202, again.text
        assert again.json()["job_id"] == out["job_id"]
        assert again.json()["platform"]["credential_status"] == "OK"
        assert again.json()["platform"]["status_reason"] is None
    saved = await credentials.load(conn, shop_id=A1, platform=Platform.META)
    assert saved is not None
    assert saved.secrets["access_token"] == "meta-third-token"
    assert await writes(conn, "META") == (1, 1)


async def test_connect_after_the_backfill_started_queues_a_new_one(
    api: httpx.AsyncClient, token: Token, conn: asyncpg.Connection
) -> None:
    body = {"secrets": {"access_token": "hubspot-token"}}
    first = await api.post(
        f"/api/shops/{A1}/platforms/hubspot/connect", json=body, headers=auth(token, A_OWNER)
    )
    assert first.status_code == 202, first.text
    await mark_running(conn, first.json()["job_id"])
    second = await api.post(
        f"/api/shops/{A1}/platforms/hubspot/connect", json=body, headers=auth(token, A_OWNER)
    )
    assert second.status_code == 202, second.text
    assert second.json()["job_id"] != first.json()["job_id"]
    assert await writes(conn, "HUBSPOT") == (1, 2)


async def test_connect_upgrades_a_waiting_incremental_to_the_backfill(
    api: httpx.AsyncClient, token: Token, conn: asyncpg.Connection
) -> None:
    """Reconnecting while an INCREMENTAL waits (its attempts mostly spent on the bad token):
    that job becomes the platform's HISTORICAL_INIT, ahead in the queue with a fresh budget."""
    await conn.execute(
        "UPDATE app_dashboard.sync_jobs SET job_type = 'INCREMENTAL', priority = 100, "
        "attempts = max_attempts - 1 WHERE shop_id = $1 AND status = 'QUEUED'",
        A1,
    )
    body = {"secrets": {"access_token": "shpat_new"}}
    r = await api.post(
        f"/api/shops/{A1}/platforms/shopify/connect", json=body, headers=auth(token, A_OWNER)
    )
    assert r.status_code == 202, r.text
    job = await conn.fetchrow(
        "SELECT id, job_type, priority, attempts FROM app_dashboard.sync_jobs "
        "WHERE shop_id = $1 AND status = 'QUEUED'",
        A1,
    )
    assert job is not None
    assert r.json()["job_id"] == job["id"]
    assert (job["job_type"], job["priority"], job["attempts"]) == ("HISTORICAL_INIT", 10, 0)
    upgrade = await conn.fetchrow(
        "SELECT detail FROM app_dashboard.sync_job_events WHERE job_id = $1 "
        "AND from_status = 'QUEUED' AND to_status = 'QUEUED'",
        job["id"],
    )
    assert upgrade is not None
    assert upgrade["detail"]["upgraded_from"] == "INCREMENTAL"
    assert await writes(conn, "SHOPIFY") == (2, 2)  # a1 and b1: no second job


async def test_only_the_shops_managers_may_connect(
    api: httpx.AsyncClient, token: Token, conn: asyncpg.Connection
) -> None:
    body = {"secrets": {"access_token": "meta-token"}}
    cases = [
        (B_OWNER, A1, 404),  # another agency
        (A_STAFF, A2, 404),  # same agency, not linked to the shop
        (A_OWNER, "nope.myshopify.com", 404),
        (A_OWNER, B1, 404),
        (STORE_USER, A1, 403),  # linked, but a client may not manage connections
    ]
    for user, shop, status in cases:
        r = await api.post(
            f"/api/shops/{shop}/platforms/meta/connect", json=body, headers=auth(token, user)
        )
        assert r.status_code == status, (user, shop, r.text)
        assert r.headers["content-type"].startswith("application/problem+json")
        assert "meta-token" not in r.text
    assert await writes(conn, "META") == (0, 0)


@pytest.mark.parametrize(
    ("platform", "body", "mentions"),
    [
        ("ga4", {"secrets": {"client_id": "cid-value-1"}}, ["client_secret", "refresh_token"]),
        (
            "shopify",
            {"secrets": {"access_token": "shpat_ok1", "password": "hunter2-value"}},
            ["password"],
        ),
        ("meta", {"secrets": {"access_token": "   "}}, ["access_token"]),
        ("meta", {"secrets": {"access_token": 12345}}, ["access_token"]),
        ("meta", {"secrets": "raw-token-value"}, ["secrets"]),
        ("meta", {"metadata": {}}, ["secrets"]),
        (
            "meta",
            {"secrets": {"access_token": "tok-value"}, "metadata": {"api_key": "k-value"}},
            ["api_key"],
        ),
        ("meta", {"secrets": {"access_token": "tok-value"}, "refresh_token": "rt-value"}, []),
        ("tiktok", {"secrets": {"access_token": "tok-value"}}, ["tiktok"]),
    ],
)
async def test_bad_connections_are_400_naming_fields_never_values(
    api: httpx.AsyncClient,
    token: Token,
    conn: asyncpg.Connection,
    platform: str,
    body: dict[str, object],
    mentions: list[str],
) -> None:
    before = await conn.fetchval("SELECT count(*) FROM app_dashboard.sync_jobs")
    r = await api.post(
        f"/api/shops/{A1}/platforms/{platform}/connect", json=body, headers=auth(token, A_OWNER)
    )
    # 400: the body breaks the schema; 422: well-formed, but not what the platform takes.
    assert r.status_code in (400, 422), r.text
    assert r.headers["content-type"].startswith("application/problem+json")
    for name in mentions:
        assert name in r.text
    for value in (
        "cid-value-1",
        "hunter2-value",
        "12345",
        "raw-token-value",
        "k-value",
        "rt-value",
        "tok-value",
    ):
        assert value not in r.text
    # Only the fixture's Shopify credentials and their backfills exist.
    assert await conn.fetchval("SELECT count(*) FROM app_dashboard.shop_credentials") == 2
    assert await conn.fetchval("SELECT count(*) FROM app_dashboard.sync_jobs") == before


async def test_secrets_never_reach_a_response_or_the_log(
    api: httpx.AsyncClient, token: Token, capfd: pytest.CaptureFixture[str]
) -> None:
    secret = "plain-ga4-secret-7f3a"  # no vendor prefix: log redaction patterns would not catch it
    body = {"secrets": {"client_id": "cid", "client_secret": secret, "refresh_token": secret + "r"}}
    headers = auth(token, A_OWNER)
    responses = [
        await api.post(f"/api/shops/{A1}/platforms/ga4/connect", json=body, headers=headers),
        await api.get(f"/api/shops/{A1}", headers=headers),
        await api.get("/api/shops", headers=headers),
        await api.get(f"/api/shops/{A1}/sync-status", headers=headers),
        await api.post(f"/api/shops/{A1}/sync", json={"platforms": ["ga4"]}, headers=headers),
        # Failing requests too: another agency's shop, a bad body.
        await api.post(f"/api/shops/{B1}/platforms/ga4/connect", json=body, headers=headers),
        await api.post(
            f"/api/shops/{A1}/platforms/ga4/connect",
            json={"secrets": {**body["secrets"], "extra": secret}},
            headers=headers,
        ),
    ]
    assert [r.status_code for r in responses] == [202, 200, 200, 200, 202, 404, 422]
    assert "GA4" in responses[1].text
    for r in responses:
        assert secret not in r.text
    captured = capfd.readouterr()
    assert secret not in captured.out + captured.err


async def test_disconnect_cancels_queued_jobs_and_keeps_the_warehouse(
    api: httpx.AsyncClient, token: Token, conn: asyncpg.Connection
) -> None:
    # Shopify on a1: its backfill is running, an incremental waits, orders are in the warehouse.
    running = await conn.fetchval(
        "SELECT id FROM app_dashboard.sync_jobs WHERE shop_id = $1 AND status = 'QUEUED'", A1
    )
    await mark_running(conn, running)
    queued = await conn.fetchval(
        "INSERT INTO app_dashboard.sync_jobs (shop_id, platform, job_type) "
        "VALUES ($1, 'SHOPIFY', 'INCREMENTAL') RETURNING id",
        A1,
    )
    await conn.execute(
        "INSERT INTO core_warehouse.orders (shop_id, id, created_at, processed_at, processed_date, "
        "updated_at, raw, sync_job_id) VALUES ($1, 1, now(), now(), current_date, now(), '{}', $2)",
        A1,
        running,
    )
    url = f"/api/shops/{A1}/platforms/shopify"
    for user, path, status in (
        (B_OWNER, url, 404),
        (STORE_USER, url, 403),
        (A_OWNER, f"/api/shops/{A1}/platforms/meta", 404),  # never connected
        (A_OWNER, f"/api/shops/{A1}/platforms/myspace", 400),
    ):
        r = await api.delete(path, headers=auth(token, user))
        assert r.status_code == status, (user, path, r.text)
    assert await writes(conn, "SHOPIFY") == (2, 3)

    r = await api.delete(url, headers=auth(token, A_STAFF))
    assert r.status_code == 204, r.text
    jobs = {
        row["id"]: row
        for row in await conn.fetch(
            "SELECT id, status, cancel_requested, error FROM app_dashboard.sync_jobs "
            "WHERE shop_id = $1",
            A1,
        )
    }
    assert jobs[queued]["status"] == "CANCELLED"
    assert jobs[queued]["error"]["code"] == "disconnected"
    assert (jobs[running]["status"], jobs[running]["cancel_requested"]) == ("IN_PROGRESS", True)
    assert (
        await conn.fetchval("SELECT count(*) FROM core_warehouse.orders WHERE shop_id = $1", A1)
        == 1
    )
    shop = await api.get(f"/api/shops/{A1}", headers=auth(token, A_STAFF))
    assert shop.json()["platforms"] == []
    # b1's Shopify is untouched; disconnecting twice is a 404.
    assert await writes(conn, "SHOPIFY") == (1, 3)
    again = await api.delete(url, headers=auth(token, A_STAFF))
    assert again.status_code == 404
