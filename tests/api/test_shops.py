"""Shops over HTTP: RLS decides what each user sees; owners create shops; secrets never leave."""

from __future__ import annotations

import httpx

from tests.api.conftest import A_OWNER, A_STAFF, B_OWNER, Token


def auth(token: Token, user: object) -> dict[str, str]:
    return {"Authorization": f"Bearer {token(user)}"}


async def test_each_user_lists_exactly_their_shops(api: httpx.AsyncClient, token: Token) -> None:
    seen = {}
    for user in (A_OWNER, A_STAFF, B_OWNER):
        r = await api.get("/api/shops", headers=auth(token, user))
        assert r.status_code == 200, r.text
        seen[user] = [(s["id"], s["is_default"]) for s in r.json()["shops"]]
    assert seen[A_OWNER] == [("a1.myshopify.com", True), ("a2.myshopify.com", False)]
    assert seen[A_STAFF] == [("a1.myshopify.com", False)]
    assert seen[B_OWNER] == [("b1.myshopify.com", True)]


async def test_a_shop_shows_its_platforms_and_never_a_token(
    api: httpx.AsyncClient, token: Token
) -> None:
    r = await api.get("/api/shops/a1.myshopify.com", headers=auth(token, A_STAFF))
    assert r.status_code == 200, r.text
    shop = r.json()
    assert (shop["currency"], shop["timezone"]) == ("USD", "America/New_York")
    [shopify] = shop["platforms"]
    assert shopify["platform"] == "SHOPIFY"
    assert shopify["credential_status"] == "OK"
    # Saving the credential queued the backfill.
    assert shopify["last_job"]["type"] == "HISTORICAL_INIT"
    assert shopify["last_job"]["status"] == "QUEUED"
    assert "shpat_" not in r.text
    assert "ciphertext" not in r.text


async def test_another_agencys_shop_is_not_found(api: httpx.AsyncClient, token: Token) -> None:
    for shop in ("b1.myshopify.com", "nope.myshopify.com"):
        r = await api.get(f"/api/shops/{shop}", headers=auth(token, A_OWNER))
        assert r.status_code == 404
        assert r.headers["content-type"].startswith("application/problem+json")
        assert r.json()["status"] == 404
    # The staff member is linked to a1 only, although a2 is in the same agency.
    r = await api.get("/api/shops/a2.myshopify.com", headers=auth(token, A_STAFF))
    assert r.status_code == 404


async def test_an_owner_creates_a_shop_and_sees_it(api: httpx.AsyncClient, token: Token) -> None:
    body = {
        "shop_domain": "https://New-Shop.myshopify.com/admin",
        "name": "New shop",
        "currency": "GBP",
        "timezone": "Europe/London",
    }
    r = await api.post("/api/shops", json=body, headers=auth(token, B_OWNER))
    assert r.status_code == 201, r.text
    assert r.json()["id"] == "new-shop.myshopify.com"
    assert r.json()["platforms"] == []
    listed = await api.get("/api/shops", headers=auth(token, B_OWNER))
    assert [s["id"] for s in listed.json()["shops"]] == [
        "b1.myshopify.com",
        "new-shop.myshopify.com",
    ]
    # Not visible to the other agency.
    r = await api.get("/api/shops/new-shop.myshopify.com", headers=auth(token, A_OWNER))
    assert r.status_code == 404
    # Registering it again is a conflict, whoever asks.
    for user in (B_OWNER, A_OWNER):
        again = await api.post("/api/shops", json=body, headers=auth(token, user))
        assert again.status_code == 409, again.text


async def test_staff_cannot_create_shops(api: httpx.AsyncClient, token: Token) -> None:
    body = {"shop_domain": "x", "name": "X", "currency": "USD", "timezone": "UTC"}
    r = await api.post("/api/shops", json=body, headers=auth(token, A_STAFF))
    assert r.status_code == 403, r.text
    assert r.headers["content-type"].startswith("application/problem+json")
    owner = await api.get("/api/shops", headers=auth(token, A_OWNER))
    assert "x.myshopify.com" not in r.text + owner.text


async def test_bad_shop_input_is_a_clear_4xx(api: httpx.AsyncClient, token: Token) -> None:
    good = {"shop_domain": "ok", "name": "OK", "currency": "USD", "timezone": "UTC"}
    cases = [
        ({**good, "shop_domain": "not a shop.com"}, 400, "myshopify"),
        ({**good, "currency": "usd"}, 400, "currency"),
        ({**good, "name": ""}, 400, "name"),
        ({**good, "timezone": "Mars/Olympus"}, 422, "time zone"),
    ]
    for body, status, mentions in cases:
        r = await api.post("/api/shops", json=body, headers=auth(token, A_OWNER))
        assert r.status_code == status, (body, r.text)
        assert r.headers["content-type"].startswith("application/problem+json")
        assert mentions in r.text
    r = await api.post(
        "/api/shops",
        content=b"{not json",
        headers={**auth(token, A_OWNER), "content-type": "application/json"},
    )
    assert r.status_code == 400
