"""The role matrix of docs/security.md, held by Postgres (95_role_matrix.sql): over HTTP and
through SQL as `authenticated`, what Supabase's Data API would expose (issue 18, item 4)."""

from __future__ import annotations

import uuid

import asyncpg
import httpx
import pytest

from storeline.core.rls import as_user
from tests.api.conftest import A_OWNER, A_STAFF, A_STORE, Token

A1 = "a1.myshopify.com"


def auth(token: Token, user: uuid.UUID) -> dict[str, str]:
    return {"Authorization": f"Bearer {token(user)}"}


def claims(user: uuid.UUID) -> dict[str, str]:
    return {"sub": str(user), "role": "authenticated", "aud": "authenticated"}


async def backfill(conn: asyncpg.Connection) -> int:
    """The owner's HISTORICAL_INIT of a1 (queued when tenants.sql's credential was saved)."""
    job: int = await conn.fetchval(
        "UPDATE app_dashboard.sync_jobs SET requested_by = $1 "
        "WHERE shop_id = $2 AND job_type = 'HISTORICAL_INIT' RETURNING id",
        A_OWNER,
        A1,
    )
    return job


async def test_a_store_user_neither_cancels_the_owners_backfill_nor_rebuilds(
    api: httpx.AsyncClient, token: Token, tenants: asyncpg.Connection
) -> None:
    job = await backfill(tenants)
    r = await api.post(f"/api/shops/{A1}/sync/{job}/cancel", headers=auth(token, A_STORE))
    assert r.status_code == 403, r.text
    assert r.headers["content-type"].startswith("application/problem+json")
    r = await api.post(
        f"/api/shops/{A1}/sync",
        json={"job_type": "HISTORICAL_REBUILD"},
        headers=auth(token, A_STORE),
    )
    assert r.status_code == 403, r.text
    row = await tenants.fetchrow(
        "SELECT job_type, cancel_requested FROM app_dashboard.sync_jobs WHERE id = $1", job
    )
    assert (row["job_type"], row["cancel_requested"]) == ("HISTORICAL_INIT", False)
    # An incremental is theirs to ask for (it joins the waiting backfill, unchanged).
    r = await api.post(f"/api/shops/{A1}/sync", json={}, headers=auth(token, A_STORE))
    assert r.status_code == 202, r.text
    # Staff may cancel it.
    r = await api.post(f"/api/shops/{A1}/sync/{job}/cancel", headers=auth(token, A_STAFF))
    assert r.status_code == 202, r.text


async def test_a_store_user_cancels_what_they_requested(
    api: httpx.AsyncClient, token: Token, tenants: asyncpg.Connection
) -> None:
    await tenants.execute("DELETE FROM app_dashboard.sync_jobs")
    r = await api.post(f"/api/shops/{A1}/sync", json={}, headers=auth(token, A_STORE))
    assert r.status_code == 202, r.text
    [job] = r.json()["jobs"]
    r = await api.post(f"/api/shops/{A1}/sync/{job['job_id']}/cancel", headers=auth(token, A_STORE))
    assert r.status_code == 202, r.text


async def test_renaming_is_for_owners_and_staff(
    api: httpx.AsyncClient, token: Token, tenants: asyncpg.Connection
) -> None:
    r = await api.patch(f"/api/shops/{A1}", json={"name": "client"}, headers=auth(token, A_STORE))
    assert r.status_code == 403, r.text
    async with as_user(tenants, claims(A_STORE)) as c:
        assert await c.fetch("UPDATE app_dashboard.shops SET name = 'x' RETURNING id") == []
    r = await api.patch(f"/api/shops/{A1}", json={"timezone": "UTC"}, headers=auth(token, A_OWNER))
    assert r.status_code == 400, r.text  # Shopify's setting, not the caller's
    r = await api.patch(f"/api/shops/{A1}", json={"name": "Staff"}, headers=auth(token, A_STAFF))
    assert r.status_code == 200, r.text
    assert r.json()["name"] == "Staff"
    r = await api.patch(
        "/api/shops/b1.myshopify.com", json={"name": "x"}, headers=auth(token, A_OWNER)
    )
    assert r.status_code == 404


@pytest.mark.parametrize(
    ("who", "statement"),
    [
        # Shop settings: nobody restamps history by hand (test_renaming… for names).
        (A_OWNER, "UPDATE app_dashboard.shops SET currency = 'EUR'"),
        (A_OWNER, "UPDATE app_dashboard.shops SET timezone = 'UTC'"),
        (A_OWNER, "UPDATE app_dashboard.shops SET verified_at = now()"),
        # Jobs: no arbitrary priority, type or platform, no un-cancelling.
        (
            A_STORE,
            "INSERT INTO app_dashboard.sync_jobs (shop_id, platform, job_type, priority, "
            "requested_by) VALUES ('a1.myshopify.com', 'SHOPIFY', 'INCREMENTAL', -32768, "
            "'00000000-0000-0000-0000-0000000000a3')",
        ),
        (
            A_OWNER,
            "INSERT INTO app_dashboard.sync_jobs (shop_id, platform, job_type, requested_by) "
            "VALUES ('a1.myshopify.com', 'META', 'HISTORICAL_INIT', "
            "'00000000-0000-0000-0000-00000000000a')",
        ),
        (A_STAFF, "UPDATE app_dashboard.sync_jobs SET cancel_requested = false"),
        (A_STORE, "UPDATE app_dashboard.sync_jobs SET cancel_requested = true"),
        # Registration needs proof: never through SQL.
        (
            A_OWNER,
            "INSERT INTO app_dashboard.shops (id, name, currency, timezone, agency_id) "
            "VALUES ('x.myshopify.com', 'X', 'USD', 'UTC', "
            "'aaaaaaaa-0000-0000-0000-000000000000')",
        ),
        (
            A_OWNER,
            "SELECT storeline_private.register_proven_shop('00000000-0000-0000-0000-00000000000a',"
            " 'x.myshopify.com', 'X', 'USD', 'UTC', 'k', '\\x00')",
        ),
        (
            A_OWNER,
            "INSERT INTO app_dashboard.user_shops (user_id, shop_id) "
            "VALUES ('00000000-0000-0000-0000-00000000000a', 'b1.myshopify.com')",
        ),
        # Internal functions are internal.
        (A_OWNER, "SELECT storeline_private.shop_agency_id('b1.myshopify.com')"),
        (A_OWNER, "SELECT storeline_private.purge_shop('a1.myshopify.com')"),
        (
            A_STORE,
            "SELECT * FROM storeline_private.api_fold_into_queued("
            "'a1.myshopify.com', 'SHOPIFY', 'HISTORICAL_REBUILD')",
        ),
    ],
)
async def test_sql_as_authenticated_gets_no_more_than_the_matrix(
    tenants: asyncpg.Connection, who: uuid.UUID, statement: str
) -> None:
    with pytest.raises(asyncpg.InsufficientPrivilegeError):
        async with as_user(tenants, claims(who)) as c:
            await c.execute(statement)


async def test_the_functions_hold_the_matrix_for_sql_callers(tenants: asyncpg.Connection) -> None:
    job = await backfill(tenants)
    refused = [
        (A_STORE, "SELECT * FROM storeline_private.api_request_cancel($1, $2)", (job, A1)),
        (
            A_STORE,
            "SELECT * FROM storeline_private.api_request_sync($2, 'SHOPIFY', "
            "'HISTORICAL_REBUILD') WHERE $1::bigint > 0",
            (job, A1),
        ),
        (
            A_OWNER,
            "SELECT * FROM storeline_private.api_request_sync($2, 'SHOPIFY', 'HISTORICAL_INIT')"
            " WHERE $1::bigint > 0",
            (job, A1),
        ),
        (
            A_OWNER,
            "SELECT * FROM storeline_private.api_request_sync($2, 'META', 'INCREMENTAL')"
            " WHERE $1::bigint > 0",
            (job, A1),
        ),
        (A_STAFF, "SELECT storeline_private.api_delete_shop($2) WHERE $1::bigint > 0", (job, A1)),
    ]
    for who, statement, args in refused:
        with pytest.raises(asyncpg.PostgresError) as caught:
            async with as_user(tenants, claims(who)) as c:
                await c.execute(statement, *args)
        assert caught.value.sqlstate in ("SL403", "SL409", "SL422"), (statement, caught.value)
    # A member's request is at the requested priority, whatever they would have liked.
    await tenants.execute("DELETE FROM app_dashboard.sync_jobs")
    async with as_user(tenants, claims(A_STORE)) as c:
        row = await c.fetchrow(
            "SELECT * FROM storeline_private.api_request_sync($1, 'SHOPIFY', 'INCREMENTAL')", A1
        )
    assert (
        await tenants.fetchval(
            "SELECT priority FROM app_dashboard.sync_jobs WHERE id = $1", row["id"]
        )
        == 50
    )


async def test_a_forged_job_reason_never_reaches_the_history(tenants: asyncpg.Connection) -> None:
    job = await backfill(tenants)
    async with as_user(tenants, claims(A_STAFF)) as c:
        await c.execute("SELECT set_config('storeline.job_reason', 'the owner did it', true)")
        assert await c.fetchval(
            "SELECT storeline_private.api_disconnect_platform($1, 'SHOPIFY')", A1
        )
    reasons = await tenants.fetch(
        "SELECT detail->>'reason' AS reason FROM app_dashboard.sync_job_events WHERE job_id = $1",
        job,
    )
    assert "the owner did it" not in [r["reason"] for r in reasons]


async def test_only_caller_scoped_helpers_and_entry_points_are_executable(
    tenants: asyncpg.Connection,
) -> None:
    rows = await tenants.fetch(
        "SELECT p.proname FROM pg_proc AS p JOIN pg_namespace AS n ON n.oid = p.pronamespace "
        "WHERE n.nspname = 'storeline_private' "
        "AND has_function_privilege('authenticated', p.oid, 'EXECUTE') ORDER BY p.proname"
    )
    assert [r["proname"] for r in rows] == [
        "api_connect_platform",
        "api_delete_shop",
        "api_disconnect_platform",
        "api_request_cancel",
        "api_request_sync",
        "api_shop_billing",  # the caller's own shops only (94_billing.sql)
        "billing_active",  # pure: a subscription status → may sync
        # pure arithmetic the security-invoker pipeline views compute with (no lookup, no data)
        "hubspot_shop_amount",
        "user_agency_id",
        "user_role",
        "user_shop_ids",
    ]
