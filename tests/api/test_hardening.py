"""Client input never makes a 500, and a refusal never carries database text (issue 18, items 1,
2 and 5): each case answered 500 or leaked Postgres' wording before."""

from __future__ import annotations

import time

import asyncpg
import httpx

from tests.api.conftest import A_OWNER, A_STAFF, SECRET, Token, sign

A1 = "a1.myshopify.com"
# What Postgres and Python put in their messages; a caller-facing reason has none of it.
DATABASE_WORDS = (
    "infinite",
    "subtract",
    "violates",
    "_check",
    "syntax for type",
    "0x00",
    "\x00",
    "invalid byte sequence",
    "urn:uuid",
    "Traceback",
    "Overflow",
    "Recursion",
)


def auth(token: Token, user: object) -> dict[str, str]:
    return {"Authorization": f"Bearer {token(user)}"}


def assert_problem(r: httpx.Response, *statuses: int) -> None:
    assert r.status_code in statuses, (r.request.url, r.status_code, r.text)
    assert r.headers["content-type"].startswith("application/problem+json"), r.text
    body = r.json()
    assert body["status"] == r.status_code
    for word in DATABASE_WORDS:
        assert word.lower() not in r.text.lower(), (word, r.text)


async def test_dates_at_the_edges_of_the_calendar_are_4xx(
    api: httpx.AsyncClient, token: Token
) -> None:
    headers = auth(token, A_OWNER)
    queries = [
        {"to": "0001-01-01"},
        {"to": "0001-01-29"},
        {"to": "9999-12-31"},
        {"from": "0001-01-01"},
        {"from": "0001-01-01", "to": "0001-01-02"},
        {"from": "9999-12-30", "to": "9999-12-31"},
    ]
    for path in (f"/api/shops/{A1}/metrics", "/api/metrics"):
        for params in queries:
            r = await api.get(path, params=params, headers=headers)
            assert_problem(r, 400, 422)
    # The first day inside the bounds still answers, and a range near it needs no `from`.
    r = await api.get(f"/api/shops/{A1}/metrics", params={"to": "1970-01-05"}, headers=headers)
    assert r.status_code == 200, r.text
    assert r.json()["from"] == "1970-01-01"


async def test_json_nested_a_thousand_deep_is_a_400_on_every_json_route(
    api: httpx.AsyncClient, token: Token
) -> None:
    headers = {**auth(token, A_OWNER), "content-type": "application/json"}
    deep = b'{"a":' * 1000 + b"1" + b"}" * 1000
    deep_list = b"[" * 1000 + b"]" * 1000
    merely_deep = b'{"secrets": {"access_token": "t"}, "metadata": ' + b'{"a":' * 300 + b"1"
    merely_deep += b"}" * 301
    routes = [
        ("POST", "/api/shops"),
        ("PATCH", f"/api/shops/{A1}"),
        ("PUT", "/api/me/default-shop"),
        ("POST", f"/api/shops/{A1}/platforms/meta/connect"),
        ("POST", f"/api/shops/{A1}/sync"),
    ]
    for method, path in routes:
        for body in (deep, deep_list, merely_deep):
            r = await api.request(method, path, content=body, headers=headers)
            assert_problem(r, 400)
            assert "nested" in r.json()["detail"]


async def test_signed_tokens_with_claims_beyond_64_bits_are_401(api: httpx.AsyncClient) -> None:
    now = int(time.time())
    for claims in (
        {"exp": 10**20},
        {"iat": 10**20},
        {"nbf": -(10**20)},
        {"exp": now + 60, "app_metadata": {"n": 10**20}},
        {"exp": now + 60, "sub": f"urn:uuid:{A_OWNER}"},
        {"exp": now + 60, "sub": "{" + str(A_OWNER) + "}"},
        {"exp": now + 60, "email": "nul\x00@test"},
        {"exp": now + 60, "user_metadata": {"name": "\ud800"}},
    ):
        bad = sign(A_OWNER, secret=SECRET, **claims)
        r = await api.get("/api/shops", headers={"Authorization": f"Bearer {bad}"})
        assert_problem(r, 401)


async def test_database_text_never_reaches_a_caller(
    api: httpx.AsyncClient, token: Token, tenants: asyncpg.Connection
) -> None:
    headers = auth(token, A_OWNER)
    # Raw bodies: JSON escapes reach the server as written (a NUL, a lone surrogate).
    cases = [
        ("PUT", "/api/me/default-shop", rb'{"shop_id": "a1\u0000.myshopify.com"}'),
        ("PUT", "/api/me/default-shop", rb'{"shop_id": "\ud800"}'),
        ("PATCH", f"/api/shops/{A1}", rb'{"name": "nul\u0000byte"}'),
        ("POST", "/api/shops", rb'{"shop_domain": "evil\n.myshopify.com", "access_token": "x"}'),
        ("POST", f"/api/shops/{A1}/sync/9223372036854775808/cancel", b""),
    ]
    for method, path, content in cases:
        r = await api.request(
            method, path, content=content, headers={**headers, "content-type": "application/json"}
        )
        assert_problem(r, 400, 404, 422)
    name = await tenants.fetchval("SELECT name FROM app_dashboard.shops WHERE id = $1", A1)
    assert name == "A1"


async def test_secrets_nested_in_metadata_are_refused_at_any_depth(
    api: httpx.AsyncClient, token: Token, tenants: asyncpg.Connection
) -> None:
    url = f"/api/shops/{A1}/platforms/meta/connect"
    secrets = {"access_token": "meta-token-value"}
    bad = [
        ({"account": {"access_token": "leak-value"}}, "metadata.account.access_token"),
        ({"a": [{"b": {"Client_Secret": "leak-value"}}]}, "Client_Secret"),
        ({"ad_account_ids": ["1"], "x": {"y": {"z": {"password": "leak-value"}}}}, "password"),
        ({"blob": "x" * 20000}, "KiB"),
    ]
    for metadata, mentions in bad:
        r = await api.post(
            url, json={"secrets": secrets, "metadata": metadata}, headers=auth(token, A_STAFF)
        )
        assert_problem(r, 422)
        assert mentions in r.text
        assert "leak-value" not in r.text
    assert (
        await tenants.fetchval(
            "SELECT count(*) FROM app_dashboard.shop_credentials WHERE platform = 'META'"
        )
        == 0
    )
