"""GA4 sandbox: the OAuth refresh-token grant and Bearer auth on runReport, over real HTTP."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import httpx
import pytest

from sandbox import server
from sandbox.world import ShopProfile, World


@pytest.fixture
def ga4() -> Iterator[tuple[World, str]]:
    """A fresh world per test: these tests move the clock and consume faults."""
    world = World.build(seed=11)
    running = server.start(world, ["ga4"])
    try:
        yield world, running.urls["ga4"]
    finally:
        running.stop()


def shop_of(world: World) -> ShopProfile:
    return world.shops["aurora-goods.myshopify.com"]


def grant(shop: ShopProfile, **override: str) -> dict[str, str]:
    form = {
        "grant_type": "refresh_token",
        "client_id": shop.ga4_client_id,
        "client_secret": shop.ga4_client_secret,
        "refresh_token": shop.ga4_refresh_token,
    }
    form.update(override)
    return form


def run(base: str, shop: ShopProfile, token: str, **body: Any) -> httpx.Response:
    payload = {
        "dimensions": [{"name": "date"}],
        "metrics": [{"name": "sessions"}],
        "dateRanges": [{"startDate": "7daysAgo", "endDate": "today"}],
        **body,
    }
    return httpx.post(
        f"{base}/v1beta/properties/{shop.ga4_property_id}:runReport",
        json=payload,
        headers={"Authorization": f"Bearer {token}"},
    )


def test_refresh_grant_returns_a_bearer_token_that_reads_reports(ga4: tuple[World, str]) -> None:
    world, base = ga4
    shop = shop_of(world)
    answer = httpx.post(f"{base}/token", data=grant(shop))
    assert answer.status_code == 200
    body = answer.json()
    assert set(body) == {"access_token", "expires_in", "scope", "token_type"}
    assert body["expires_in"] == 3599
    assert body["token_type"] == "Bearer"
    assert run(base, shop, body["access_token"]).status_code == 200


@pytest.mark.parametrize(
    ("override", "status", "error"),
    [
        ({"client_secret": "wrong"}, 401, "invalid_client"),
        ({"client_id": "nobody.apps.googleusercontent.com"}, 401, "invalid_client"),
        ({"refresh_token": "1//not-ours"}, 400, "invalid_grant"),
        ({"grant_type": "password"}, 400, "unsupported_grant_type"),
        ({"refresh_token": ""}, 400, "invalid_request"),
    ],
)
def test_token_endpoint_refuses_like_google(
    ga4: tuple[World, str], override: dict[str, str], status: int, error: str
) -> None:
    world, base = ga4
    answer = httpx.post(f"{base}/token", data=grant(shop_of(world), **override))
    assert answer.status_code == status
    assert answer.json()["error"] == error
    assert answer.json()["error_description"]


def test_access_token_expires_with_the_sandbox_clock(ga4: tuple[World, str]) -> None:
    world, base = ga4
    shop = shop_of(world)
    token = httpx.post(f"{base}/token", data=grant(shop)).json()["access_token"]
    world.advance(timedelta(seconds=3598))
    assert run(base, shop, token).status_code == 200
    world.advance(timedelta(seconds=2))
    expired = run(base, shop, token)
    assert expired.status_code == 401
    assert expired.json()["error"]["status"] == "UNAUTHENTICATED"
    assert "invalid_token" in expired.headers["www-authenticate"]
    fresh = httpx.post(f"{base}/token", data=grant(shop)).json()["access_token"]
    assert fresh != token
    assert run(base, shop, fresh).status_code == 200


def test_missing_or_unknown_bearer_is_unauthenticated(ga4: tuple[World, str]) -> None:
    world, base = ga4
    shop = shop_of(world)
    url = f"{base}/v1beta/properties/{shop.ga4_property_id}:runReport"
    missing = httpx.post(url, json={})
    assert missing.status_code == 401
    assert missing.json()["error"]["message"].startswith("Request is missing required auth")
    unknown = run(base, shop, "ya29.made-up")
    assert unknown.status_code == 401
    assert unknown.json()["error"]["code"] == 401


def test_another_shops_property_is_permission_denied(ga4: tuple[World, str]) -> None:
    world, base = ga4
    shop = shop_of(world)
    other = world.shops["berlin-botanics.myshopify.com"]
    token = httpx.post(f"{base}/token", data=grant(shop)).json()["access_token"]
    denied = run(base, other, token)
    assert denied.status_code == 403
    assert denied.json()["error"]["status"] == "PERMISSION_DENIED"


def test_expired_token_fault_forces_a_refresh(ga4: tuple[World, str]) -> None:
    world, base = ga4
    shop = shop_of(world)
    token = httpx.post(f"{base}/token", data=grant(shop)).json()["access_token"]
    world.faults.inject("ga4", shop.shop_id, "expired_token")
    assert run(base, shop, token).status_code == 401
    assert run(base, shop, token).status_code == 401  # that token is dead for good
    fresh = httpx.post(f"{base}/token", data=grant(shop)).json()["access_token"]
    assert run(base, shop, fresh).status_code == 200


def test_revoked_refresh_token_is_invalid_grant(ga4: tuple[World, str]) -> None:
    world, base = ga4
    shop = shop_of(world)
    world.faults.inject("ga4", shop.shop_id, "revoked_token", times=None)
    answer = httpx.post(f"{base}/token", data=grant(shop))
    assert answer.status_code == 400
    assert answer.json() == {
        "error": "invalid_grant",
        "error_description": "Token has been expired or revoked.",
    }
