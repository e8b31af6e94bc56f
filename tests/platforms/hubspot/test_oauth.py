"""An OAuth-connected portal (an app's client and the portal's refresh token, no private-app
token): each job starts with a token grant, an access token that expires mid-job is refreshed
and the request resent; a refused refresh token marks the credential NEEDS_REAUTH."""

from __future__ import annotations

import dataclasses

import asyncpg
import pytest

from sandbox.faults import FaultKind
from sandbox.hubspot.oauth import oauth_app
from sandbox.server import RunningSandbox
from sandbox.world import ShopProfile
from storeline.core import credentials
from storeline.core.enums import Platform
from tests.fixtures.sandbox import FreshSandbox
from tests.platforms.hubspot.support import hubspot_engine, object_mismatches
from tests.platforms.shopify.connector_support import create_shop, wait_for

SHOP = "kiri-surf.myshopify.com"


@pytest.fixture
def running(fresh_sandbox: FreshSandbox) -> RunningSandbox:
    return fresh_sandbox(platforms=["hubspot"])


async def _connect(conn: asyncpg.Connection, shop: ShopProfile, refresh_token: str) -> int:
    await create_shop(conn, shop)
    app = dataclasses.replace(oauth_app(shop), refresh_token=refresh_token)
    job_id = await credentials.save(
        conn,
        shop_id=shop.shop_id,
        platform=Platform.HUBSPOT,
        secrets={
            "client_id": app.client_id,
            "client_secret": app.client_secret,
            "refresh_token": app.refresh_token,
        },
        metadata={"portal_id": shop.hubspot_portal_id},
    )
    assert job_id is not None
    return job_id


async def test_an_expired_access_token_is_refreshed(
    db_dsn: str, pool: asyncpg.Pool, running: RunningSandbox
) -> None:
    shop = running.world.shops[SHOP]
    running.world.faults.inject("hubspot", shop.shop_id, FaultKind.EXPIRED_TOKEN)
    async with pool.acquire() as conn:
        job_id = await _connect(conn, shop, oauth_app(shop).refresh_token)
    async with hubspot_engine(db_dsn, running) as built:
        (job,) = await wait_for(pool, [job_id], ("SUCCEEDED", "FAILED"), within=60)
    assert job["status"] == "SUCCEEDED", job["error"]
    client = built[0].last_client
    assert client is not None
    assert client.refreshes == 1
    async with pool.acquire() as conn:
        kinds = ("deals", "contacts", "companies")
        assert await object_mismatches(conn, running.world, shop, kinds) == []


async def test_a_refused_refresh_token_needs_reauth(
    db_dsn: str, pool: asyncpg.Pool, running: RunningSandbox
) -> None:
    shop = running.world.shops[SHOP]
    async with pool.acquire() as conn:
        job_id = await _connect(conn, shop, "na1-revoked-refresh-token")
    async with hubspot_engine(db_dsn, running):
        (job,) = await wait_for(pool, [job_id], ("FAILED",), within=60)
    assert job["error"]["code"] == "hubspot_refresh_invalid"
    assert "na1-revoked-refresh-token" not in str(job["error"])
    status = await pool.fetchval(
        "SELECT status FROM app_dashboard.shop_credentials WHERE shop_id = $1 AND platform = $2",
        shop.shop_id,
        Platform.HUBSPOT.value,
    )
    assert status == "NEEDS_REAUTH"
