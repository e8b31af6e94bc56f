"""Shops over HTTP: RLS decides what each user sees; owners register shops with proof and delete
them; secrets never leave."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Callable

import asyncpg
import httpx
import pytest

from sandbox.server import RunningSandbox
from storeline.api.settings import ApiSettings
from storeline.platforms.shopify.settings import ShopifySettings
from tests.api.conftest import A_OWNER, A_STAFF, A_STORE, B_OWNER, SECRET, Token


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


@pytest.fixture
async def proving_api(
    tenants: asyncpg.Connection, serve: Callable[..., str], sandbox: RunningSandbox
) -> AsyncIterator[httpx.AsyncClient]:
    """The API proving registrations against the sandbox's Shopify over HTTP."""
    shopify = ShopifySettings(base_url=f"{sandbox.urls['shopify']}/shops/{{handle}}")
    url = serve(ApiSettings(jwt_secret=SECRET), shopify=shopify)
    async with httpx.AsyncClient(base_url=url, timeout=10) as client:
        yield client


async def test_an_owner_registers_a_shop_with_proof_and_sees_it(
    proving_api: httpx.AsyncClient, token: Token, sandbox: RunningSandbox, conn: asyncpg.Connection
) -> None:
    shop = sandbox.world.shops["aurora-goods.myshopify.com"]
    body = {"shop_domain": "https://Aurora-Goods.myshopify.com/admin",
            "access_token": shop.shopify_token}  # fmt: skip
    r = await proving_api.post("/api/shops", json=body, headers=auth(token, B_OWNER))
    assert r.status_code == 201, r.text
    created = r.json()
    # Name, currency and timezone are Shopify's; the token became the Shopify connection.
    assert (created["id"], created["name"]) == (shop.shop_id, shop.name)
    assert (created["currency"], created["timezone"]) == (shop.currency, shop.timezone)
    [shopify] = created["platforms"]
    assert (shopify["platform"], shopify["last_job"]["type"]) == ("SHOPIFY", "HISTORICAL_INIT")
    assert shop.shopify_token not in r.text
    listed = await proving_api.get("/api/shops", headers=auth(token, B_OWNER))
    assert [s["id"] for s in listed.json()["shops"]] == ["aurora-goods.myshopify.com",
                                                         "b1.myshopify.com"]  # fmt: skip
    # Not visible to the other agency, and not theirs to take: they may hold a working token
    # too, but the proven registration stands until its owner deletes it.
    r = await proving_api.get(f"/api/shops/{shop.shop_id}", headers=auth(token, A_OWNER))
    assert r.status_code == 404
    again = await proving_api.post("/api/shops", json=body, headers=auth(token, A_OWNER))
    assert again.status_code == 409, again.text
    assert "another agency" in again.json()["detail"]
    mine = await proving_api.post("/api/shops", json=body, headers=auth(token, B_OWNER))
    assert mine.status_code == 409, mine.text
    assert "your agency" in mine.json()["detail"]
    # The owner deletes it; then the other agency registers it.
    r = await proving_api.delete(f"/api/shops/{shop.shop_id}", headers=auth(token, B_OWNER))
    assert r.status_code == 204, r.text
    r = await proving_api.post("/api/shops", json=body, headers=auth(token, A_OWNER))
    assert r.status_code == 201, r.text


async def test_a_domain_cannot_be_squatted_or_enumerated(
    proving_api: httpx.AsyncClient, token: Token, sandbox: RunningSandbox, conn: asyncpg.Connection
) -> None:
    """Without a working token for that very shop nothing is registered and nothing confirmed:
    another agency's shop, a free domain and a missing one all answer the same 422."""
    berlin = sandbox.world.shops["berlin-botanics.myshopify.com"]
    kiri = sandbox.world.shops["kiri-surf.myshopify.com"]
    answers = set()
    for domain, secret in (
        ("b1.myshopify.com", "guess"),  # another agency's shop
        ("nobody-here.myshopify.com", "guess"),  # no such shop
        (berlin.shop_id, "shpat_wrong"),  # a real shop, a wrong token
        (berlin.shop_id, kiri.shopify_token),  # a real token of another shop
    ):
        r = await proving_api.post(
            "/api/shops",
            json={"shop_domain": domain, "access_token": secret},
            headers=auth(token, A_OWNER),
        )
        assert r.status_code == 422, r.text
        assert r.headers["content-type"].startswith("application/problem+json")
        answers.add(r.json()["detail"].split(":")[0])
    assert answers == {"registration not proven"}
    assert (
        await conn.fetchval(
            "SELECT count(*) FROM app_dashboard.shops WHERE agency_id = $1",
            uuid.UUID("aaaaaaaa-0000-0000-0000-000000000000"),
        )
        == 2
    )
    # An unproven registration (made by the CLI, a seed, or a squatter before proof existed)
    # blocks nobody: the prover gets the shop, fresh, and the squatter loses it with its data.
    await conn.execute(
        "INSERT INTO app_dashboard.shops (id, name, currency, timezone, agency_id) "
        "VALUES ($1, 'squatted', 'USD', 'UTC', 'aaaaaaaa-0000-0000-0000-000000000000')",
        berlin.shop_id,
    )
    await conn.execute(
        "INSERT INTO app_dashboard.user_shops (user_id, shop_id) VALUES ($1, $2)",
        A_OWNER,
        berlin.shop_id,
    )
    await conn.execute(
        "INSERT INTO app_dashboard.sync_cursors (shop_id, platform, watermark) "
        "VALUES ($1, 'META', '{}')",
        berlin.shop_id,
    )
    r = await proving_api.post(
        "/api/shops",
        json={"shop_domain": berlin.shop_id, "access_token": berlin.shopify_token},
        headers=auth(token, B_OWNER),
    )
    assert r.status_code == 201, r.text
    assert (r.json()["name"], r.json()["currency"]) == (berlin.name, berlin.currency)
    r = await proving_api.get(f"/api/shops/{berlin.shop_id}", headers=auth(token, A_OWNER))
    assert r.status_code == 404
    assert (
        await conn.fetchval(
            "SELECT count(*) FROM app_dashboard.sync_cursors WHERE shop_id = $1", berlin.shop_id
        )
        == 0
    )


async def test_only_owners_register_and_delete_shops(
    proving_api: httpx.AsyncClient, token: Token, sandbox: RunningSandbox, conn: asyncpg.Connection
) -> None:
    kiri = sandbox.world.shops["kiri-surf.myshopify.com"]
    body = {"shop_domain": kiri.shop_id, "access_token": kiri.shopify_token}
    for user in (A_STAFF, A_STORE):
        r = await proving_api.post("/api/shops", json=body, headers=auth(token, user))
        assert r.status_code == 403, r.text
        assert r.headers["content-type"].startswith("application/problem+json")
        r = await proving_api.delete("/api/shops/a1.myshopify.com", headers=auth(token, user))
        assert r.status_code == 403, r.text
    # Another agency's shop is not found, whoever asks.
    r = await proving_api.delete("/api/shops/a1.myshopify.com", headers=auth(token, B_OWNER))
    assert r.status_code == 404
    # The owner deletes a shop with everything of it.
    await conn.execute(
        "INSERT INTO app_dashboard.sync_cursors (shop_id, platform, watermark) "
        "VALUES ('a1.myshopify.com', 'SHOPIFY', '{}')"
    )
    r = await proving_api.delete("/api/shops/a1.myshopify.com", headers=auth(token, A_OWNER))
    assert r.status_code == 204, r.text
    for table in ("shops", "user_shops", "shop_credentials", "sync_jobs", "sync_cursors"):
        column = "id" if table == "shops" else "shop_id"
        left = await conn.fetchval(
            f"SELECT count(*) FROM app_dashboard.{table} WHERE {column} = 'a1.myshopify.com'"
        )
        assert left == 0, table
    r = await proving_api.delete("/api/shops/a1.myshopify.com", headers=auth(token, A_OWNER))
    assert r.status_code == 404


async def test_bad_shop_input_is_a_clear_4xx(api: httpx.AsyncClient, token: Token) -> None:
    good = {"shop_domain": "ok", "access_token": "shpat_x"}
    cases = [
        ({**good, "shop_domain": "not a shop.com"}, 400, "myshopify"),
        ({**good, "access_token": "tab\tin"}, 400, "access_token"),
        ({**good, "currency": "USD"}, 400, "currency"),  # Shopify's, not the caller's
        ({"shop_domain": "ok"}, 400, "access_token"),
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
