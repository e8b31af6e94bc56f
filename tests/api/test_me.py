"""The caller's profile and default shop over HTTP: exactly one default, only among their shops."""

from __future__ import annotations

import asyncio
import uuid

import asyncpg
import httpx

from tests.api.conftest import A_OWNER, A_STAFF, B_OWNER, Token
from tests.api.test_platforms import A1, A2, B1, auth


async def defaults(conn: asyncpg.Connection, user: uuid.UUID) -> list[str]:
    rows = await conn.fetch(
        "SELECT shop_id FROM app_dashboard.user_shops WHERE user_id = $1 AND is_default", user
    )
    return [r["shop_id"] for r in rows]


async def test_me_describes_the_caller(api: httpx.AsyncClient, token: Token) -> None:
    r = await api.get("/api/me", headers=auth(token, A_OWNER))
    assert r.status_code == 200, r.text
    assert r.json() == {
        "id": str(A_OWNER),
        "email": "a@a.test",
        "role": "AGENCY_OWNER",
        "agency_id": "aaaaaaaa-0000-0000-0000-000000000000",
        "agency_name": "A",
        "subscription_status": "active",
        "default_shop": A1,
    }
    staff = await api.get("/api/me", headers=auth(token, A_STAFF))
    assert (staff.json()["email"], staff.json()["default_shop"]) == ("s@a.test", None)
    # A valid token whose user has no Storeline account.
    r = await api.get("/api/me", headers=auth(token, uuid.uuid4()))
    assert r.status_code == 404, r.text


async def test_switching_the_default_keeps_exactly_one(
    api: httpx.AsyncClient, token: Token, conn: asyncpg.Connection
) -> None:
    headers = auth(token, A_OWNER)
    r = await api.put("/api/me/default-shop", json={"shop_id": A2}, headers=headers)
    assert r.status_code == 200, r.text
    assert r.json()["default_shop"] == A2
    assert await defaults(conn, A_OWNER) == [A2]
    # Another agency's shop, or no shop at all: 404, and the old default stays.
    for shop in (B1, "nope.myshopify.com"):
        r = await api.put("/api/me/default-shop", json={"shop_id": shop}, headers=headers)
        assert r.status_code == 404, r.text
        assert await defaults(conn, A_OWNER) == [A2]
    # Setting the current default again is a no-op; other users are untouched.
    r = await api.put("/api/me/default-shop", json={"shop_id": A2}, headers=headers)
    assert r.status_code == 200, r.text
    assert await defaults(conn, A_OWNER) == [A2]
    assert await defaults(conn, B_OWNER) == [B1]
    # A user without a default gets one.
    r = await api.put("/api/me/default-shop", json={"shop_id": A1}, headers=auth(token, A_STAFF))
    assert r.status_code == 200, r.text
    assert await defaults(conn, A_STAFF) == [A1]
    assert await defaults(conn, A_OWNER) == [A2]
    r = await api.put("/api/me/default-shop", json={}, headers=headers)
    assert r.status_code == 400


async def test_concurrent_switches_leave_one_default(
    api: httpx.AsyncClient, token: Token, conn: asyncpg.Connection
) -> None:
    headers = auth(token, A_OWNER)
    shops = [A1, A2] * 6
    responses = await asyncio.gather(
        *(api.put("/api/me/default-shop", json={"shop_id": s}, headers=headers) for s in shops)
    )
    assert [r.status_code for r in responses] == [200] * len(shops), [r.text for r in responses]
    assert len(await defaults(conn, A_OWNER)) == 1
