"""Two agencies, one database: a user sees exactly their shops' rows and can write nothing else.

Everything runs as `authenticated` with JWT claims set transaction-locally
(storeline.core.rls.as_user), the way the API runs every user query.
"""

from __future__ import annotations

import uuid

import asyncpg
import pytest

from storeline.core import credentials
from storeline.core.enums import Platform
from storeline.core.rls import as_user

A_OWNER = uuid.UUID("00000000-0000-0000-0000-00000000000a")
B_OWNER = uuid.UUID("00000000-0000-0000-0000-00000000000b")
A_STAFF = uuid.UUID("00000000-0000-0000-0000-0000000000a2")


def claims(user: uuid.UUID) -> dict[str, str]:
    return {"sub": str(user), "role": "authenticated", "aud": "authenticated"}


@pytest.fixture
async def tenants(conn: asyncpg.Connection) -> asyncpg.Connection:
    """Agency A (shops a1, a2; owner + staff linked to a1 only), agency B (shop b1)."""
    await conn.execute(
        """
        INSERT INTO app_dashboard.agencies (id, name) VALUES
            ('aaaaaaaa-0000-0000-0000-000000000000', 'A'),
            ('bbbbbbbb-0000-0000-0000-000000000000', 'B');
        INSERT INTO app_dashboard.users (id, email, role, agency_id) VALUES
            ('00000000-0000-0000-0000-00000000000a', 'a@a.test', 'AGENCY_OWNER',
             'aaaaaaaa-0000-0000-0000-000000000000'),
            ('00000000-0000-0000-0000-0000000000a2', 's@a.test', 'AGENCY_STAFF',
             'aaaaaaaa-0000-0000-0000-000000000000'),
            ('00000000-0000-0000-0000-00000000000b', 'b@b.test', 'AGENCY_OWNER',
             'bbbbbbbb-0000-0000-0000-000000000000');
        INSERT INTO app_dashboard.shops (id, name, currency, timezone, agency_id) VALUES
            ('a1.myshopify.com', 'A1', 'USD', 'America/New_York',
             'aaaaaaaa-0000-0000-0000-000000000000'),
            ('a2.myshopify.com', 'A2', 'USD', 'America/New_York',
             'aaaaaaaa-0000-0000-0000-000000000000'),
            ('b1.myshopify.com', 'B1', 'EUR', 'Europe/Berlin',
             'bbbbbbbb-0000-0000-0000-000000000000');
        INSERT INTO app_dashboard.user_shops (user_id, shop_id) VALUES
            ('00000000-0000-0000-0000-00000000000a', 'a1.myshopify.com'),
            ('00000000-0000-0000-0000-0000000000a2', 'a1.myshopify.com'),
            ('00000000-0000-0000-0000-00000000000b', 'b1.myshopify.com');
        """
    )
    for shop in ("a1.myshopify.com", "a2.myshopify.com", "b1.myshopify.com"):
        await credentials.save(
            conn,
            shop_id=shop,
            platform=Platform.SHOPIFY,
            secrets={"access_token": f"shpat_{shop}"},
            metadata={},
        )
    return conn


async def test_reads_are_limited_to_linked_shops(tenants: asyncpg.Connection) -> None:
    async with as_user(tenants, claims(A_OWNER)) as c:
        assert [r["id"] for r in await c.fetch("SELECT id FROM app_dashboard.shops")] == [
            "a1.myshopify.com"
        ]
        jobs = await c.fetch("SELECT shop_id FROM app_dashboard.sync_jobs")
        assert {r["shop_id"] for r in jobs} == {"a1.myshopify.com"}
        assert await c.fetchval("SELECT count(*) FROM app_dashboard.agencies") == 1
        assert await c.fetchval("SELECT count(*) FROM app_dashboard.users") == 1
    async with as_user(tenants, claims(B_OWNER)) as c:
        assert [r["id"] for r in await c.fetch("SELECT id FROM app_dashboard.shops")] == [
            "b1.myshopify.com"
        ]


async def test_unknown_user_sees_nothing(tenants: asyncpg.Connection) -> None:
    async with as_user(tenants, claims(uuid.uuid4())) as c:
        assert await c.fetchval("SELECT count(*) FROM app_dashboard.shops") == 0
        assert await c.fetchval("SELECT count(*) FROM app_dashboard.sync_jobs") == 0


async def test_credentials_are_never_readable(tenants: asyncpg.Connection) -> None:
    async with as_user(tenants, claims(A_OWNER)) as c:
        with pytest.raises(asyncpg.InsufficientPrivilegeError):
            await c.fetch("SELECT ciphertext FROM app_dashboard.shop_credentials")


@pytest.mark.parametrize(
    ("who", "statement"),
    [
        # Creating a shop in someone else's agency.
        (
            A_OWNER,
            "INSERT INTO app_dashboard.shops (id, name, currency, timezone, agency_id) "
            "VALUES ('x.myshopify.com', 'X', 'USD', 'UTC', "
            "'bbbbbbbb-0000-0000-0000-000000000000')",
        ),
        # Staff may not create shops even in their own agency.
        (
            A_STAFF,
            "INSERT INTO app_dashboard.shops (id, name, currency, timezone, agency_id) "
            "VALUES ('x.myshopify.com', 'X', 'USD', 'UTC', "
            "'aaaaaaaa-0000-0000-0000-000000000000')",
        ),
        # Linking yourself to another agency's shop.
        (
            A_OWNER,
            "INSERT INTO app_dashboard.user_shops (user_id, shop_id) VALUES "
            "('00000000-0000-0000-0000-00000000000a', 'b1.myshopify.com')",
        ),
        # Linking someone else to your shop.
        (
            A_OWNER,
            "INSERT INTO app_dashboard.user_shops (user_id, shop_id) VALUES "
            "('00000000-0000-0000-0000-00000000000b', 'a1.myshopify.com')",
        ),
        # Requesting a sync of another agency's shop.
        (
            A_OWNER,
            "INSERT INTO app_dashboard.sync_jobs (shop_id, platform, job_type, "
            "requested_by) VALUES ('b1.myshopify.com', 'SHOPIFY', 'INCREMENTAL', "
            "'00000000-0000-0000-0000-00000000000a')",
        ),
        # Writing columns only the worker may write.
        (A_OWNER, "UPDATE app_dashboard.sync_jobs SET status = 'SUCCEEDED'"),
        (A_OWNER, "DELETE FROM app_dashboard.shops"),
        (
            A_OWNER,
            "UPDATE app_dashboard.shops SET agency_id = 'bbbbbbbb-0000-0000-0000-000000000000'",
        ),
    ],
)
async def test_cross_tenant_writes_are_refused(
    tenants: asyncpg.Connection, who: uuid.UUID, statement: str
) -> None:
    with pytest.raises(asyncpg.InsufficientPrivilegeError):
        async with as_user(tenants, claims(who)) as c:
            await c.execute(statement)


async def test_updates_of_invisible_rows_match_nothing(tenants: asyncpg.Connection) -> None:
    async with as_user(tenants, claims(A_OWNER)) as c:
        rows = await c.fetch(
            "UPDATE app_dashboard.shops SET name = 'pwned' WHERE id = 'b1.myshopify.com' "
            "RETURNING id"
        )
        assert rows == []
    assert (
        await tenants.fetchval("SELECT name FROM app_dashboard.shops WHERE id = 'b1.myshopify.com'")
        == "B1"
    )


async def test_owner_can_do_their_own_work(tenants: asyncpg.Connection) -> None:
    """Shops are registered with proof by the API (tests/api/test_shops.py); through SQL an owner
    renames a linked shop and requests and cancels syncs through the role matrix's functions
    (95_role_matrix.sql)."""
    async with as_user(tenants, claims(A_OWNER)) as c:
        renamed = await c.fetch(
            "UPDATE app_dashboard.shops SET name = 'A1 renamed' WHERE id = 'a1.myshopify.com' "
            "RETURNING id"
        )
        assert len(renamed) == 1
        job = await c.fetchrow(
            "SELECT * FROM storeline_private.api_request_sync("
            "'a1.myshopify.com', 'SHOPIFY', 'HISTORICAL_REBUILD')"
        )
        assert (job["job_type"], job["already_queued"]) == ("HISTORICAL_REBUILD", True)
        cancel = await c.fetchrow(
            "SELECT * FROM storeline_private.api_request_cancel($1, 'a1.myshopify.com')",
            job["id"],
        )
        assert cancel["cancel_requested"] is True
        ids = [r["id"] for r in await c.fetch("SELECT id FROM app_dashboard.shops ORDER BY id")]
        assert ids == ["a1.myshopify.com"]


async def test_service_role_tokens_never_become_bypass_sessions(
    tenants: asyncpg.Connection,
) -> None:
    with pytest.raises(PermissionError):
        async with as_user(tenants, {"sub": str(A_OWNER), "role": "service_role"}):
            pass


async def test_anon_sees_nothing(tenants: asyncpg.Connection) -> None:
    with pytest.raises(asyncpg.InsufficientPrivilegeError):
        async with as_user(tenants, {"role": "anon"}) as c:
            await c.fetch("SELECT id FROM app_dashboard.shops")


async def test_identity_does_not_leak_past_the_transaction(tenants: asyncpg.Connection) -> None:
    async with as_user(tenants, claims(A_OWNER)):
        pass
    assert await tenants.fetchval("SELECT current_user") == "postgres"
    assert await tenants.fetchval("SELECT count(*) FROM app_dashboard.shops") == 3


async def test_policy_uses_indexes(tenants: asyncpg.Connection) -> None:
    """The membership lookup is an InitPlan, evaluated once, not per row (docs/security.md)."""
    async with as_user(tenants, claims(A_OWNER)) as c:
        plan = await c.fetchval(
            "EXPLAIN (FORMAT JSON) SELECT * FROM app_dashboard.sync_jobs "
            "WHERE shop_id = 'a1.myshopify.com'"
        )
    assert "InitPlan" in str(plan)
