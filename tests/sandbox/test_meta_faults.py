"""Injected faults answer the way Meta does, then clear; usage headers report load."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from sandbox import server
from sandbox.faults import FaultKind
from sandbox.meta.usage import UsageMeter
from sandbox.world import ShopProfile, World

V = "v26.0"


@pytest.fixture(scope="module")
def world() -> World:
    return World.build(seed=7, size="tiny")


@pytest.fixture(scope="module")
def meta(world: World) -> Iterator[httpx.Client]:
    running = server.start(world, ["meta"])
    with httpx.Client(base_url=running.urls["meta"], timeout=30) as client:
        yield client
    running.stop()


@pytest.fixture(autouse=True)
def no_leftover_faults(world: World) -> Iterator[None]:
    world.faults.clear()
    yield
    world.faults.clear()


def shop_of(world: World, index: int = 0) -> ShopProfile:
    return list(world.shops.values())[index]


def insights(client: httpx.Client, shop: ShopProfile, **kw: Any) -> httpx.Response:
    return client.get(
        f"/{V}/{shop.meta_ad_account_id}/insights",
        params={
            "access_token": shop.meta_token,
            "fields": "spend",
            "date_preset": "last_7d",
            "level": "ad",
        },
        **kw,
    )


def warm(client: httpx.Client, shop: ShopProfile) -> None:
    """Make the calls after which Meta starts sending usage headers for the account."""
    for _ in range(UsageMeter().quiet_calls):
        assert insights(client, shop).status_code == 200


def buc(response: httpx.Response, shop: ShopProfile) -> dict[str, Any]:
    usage: dict[str, Any] = json.loads(response.headers["x-business-use-case-usage"])
    (entry,) = usage[shop.meta_ad_account_id.removeprefix("act_")]
    return entry


def error(response: httpx.Response) -> dict[str, Any]:
    body: dict[str, Any] = response.json()["error"]
    return body


@pytest.mark.parametrize(
    ("kind", "params", "status", "code", "subcode"),
    [
        (FaultKind.THROTTLE, {}, 400, 80000, 2446079),
        (FaultKind.THROTTLE, {"code": 17}, 400, 17, 2446079),
        (FaultKind.THROTTLE, {"code": 613}, 400, 613, 1487742),
        (FaultKind.SERVER_ERROR, {}, 500, 1, 99),
        (FaultKind.SERVER_ERROR, {"code": 2}, 400, 2, None),  # Meta's (#2) comes as a 400
        (FaultKind.SERVER_ERROR, {"code": 2, "status": 503}, 503, 2, None),
        (FaultKind.SERVER_ERROR, {"code": "reduce_data"}, 500, 1, None),
        (FaultKind.SERVER_ERROR, {"code": 1504018}, 400, 100, 1504018),
        (FaultKind.SERVER_ERROR, {"code": 1504038}, 500, 2, 1504038),
        (FaultKind.EXPIRED_TOKEN, {}, 400, 190, 463),
        (FaultKind.REVOKED_TOKEN, {}, 400, 190, 460),
        (FaultKind.REVOKED_TOKEN, {"variant": "deauthorized"}, 400, 190, 458),
        (FaultKind.REVOKED_TOKEN, {"variant": "permission"}, 403, 200, None),
    ],
)
def test_error_faults_fire_then_clear(
    meta: httpx.Client,
    world: World,
    kind: FaultKind,
    params: dict[str, Any],
    status: int,
    code: int,
    subcode: int | None,
) -> None:
    shop, other = shop_of(world, 0), shop_of(world, 1)
    world.faults.inject("meta", shop.shop_id, kind, times=2, **params)
    assert insights(meta, other).status_code == 200  # faults are per shop
    for _ in range(2):
        r = insights(meta, shop)
        assert r.status_code == status, r.text
        assert r.headers["content-type"] == "application/json; charset=UTF-8"
        e = error(r)
        assert e["code"] == code
        assert e.get("error_subcode") == subcode
        # "Please reduce the amount of data" comes bare: message and code only.
        assert e.get("fbtrace_id", "A").startswith("A")
    assert insights(meta, shop).status_code == 200


def test_throttle_reports_the_exhausted_bucket(meta: httpx.Client, world: World) -> None:
    shop = shop_of(world)
    warm(meta, shop)
    world.faults.inject("meta", shop.shop_id, FaultKind.THROTTLE, regain_minutes=3)
    r = insights(meta, shop)
    e = error(r)
    assert e["type"] == "OAuthException"
    assert e["is_transient"] is True
    assert e["message"].startswith("(#80000) There have been too many calls from this ad-account")
    usage = buc(r, shop)
    assert usage["type"] == "ads_insights"
    assert usage["call_count"] == 100
    assert usage["estimated_time_to_regain_access"] == 3
    assert json.loads(r.headers["x-ad-account-usage"])["acc_id_util_pct"] == 100
    assert json.loads(r.headers["x-fb-ads-insights-throttle"])["acc_id_util_pct"] == 100
    after = insights(meta, shop)
    assert after.status_code == 200
    assert buc(after, shop)["estimated_time_to_regain_access"] == 0


def test_expired_token_is_an_oauth_error_with_a_challenge(meta: httpx.Client, world: World) -> None:
    shop = shop_of(world)
    world.faults.inject("meta", shop.shop_id, FaultKind.EXPIRED_TOKEN)
    r = insights(meta, shop)
    assert error(r)["message"].startswith("Error validating access token: Session has expired on")
    assert "The current time is Sunday, 01-Nov-26 04:00:00 PST." in error(r)["message"]
    assert r.headers["www-authenticate"].startswith('OAuth "Facebook Platform" "invalid_token"')


def test_malformed_answers_200_with_a_truncated_body(meta: httpx.Client, world: World) -> None:
    shop = shop_of(world)
    good = insights(meta, shop).content
    world.faults.inject("meta", shop.shop_id, FaultKind.MALFORMED)
    r = insights(meta, shop)
    assert r.status_code == 200
    assert good.startswith(r.content)
    assert len(r.content) < len(good)
    with pytest.raises(json.JSONDecodeError):
        json.loads(r.content)


def test_slow_answers_late_and_trips_a_short_client_timeout(
    meta: httpx.Client, world: World
) -> None:
    shop = shop_of(world)
    world.faults.inject("meta", shop.shop_id, FaultKind.SLOW, seconds=0.6)
    started = time.monotonic()
    assert insights(meta, shop).status_code == 200
    assert time.monotonic() - started >= 0.6
    world.faults.inject("meta", shop.shop_id, FaultKind.SLOW, seconds=0.8)
    with pytest.raises(httpx.ReadTimeout):
        insights(meta, shop, timeout=0.2)


def test_faults_apply_to_report_runs_of_the_shop(meta: httpx.Client, world: World) -> None:
    shop = shop_of(world, 2)
    run_id = meta.post(
        f"/{V}/{shop.meta_ad_account_id}/insights",
        data={"access_token": shop.meta_token, "fields": "spend", "date_preset": "last_7d"},
    ).json()["report_run_id"]
    world.faults.inject("meta", shop.shop_id, FaultKind.SERVER_ERROR, code=2)
    r = meta.get(f"/{V}/{run_id}", params={"access_token": shop.meta_token})
    assert r.status_code == 400
    assert error(r)["is_transient"] is True
    assert meta.get(f"/{V}/{run_id}", params={"access_token": shop.meta_token}).status_code == 200


def test_usage_headers_on_every_answer_rise_under_load(meta: httpx.Client, world: World) -> None:
    shop = shop_of(world)
    warm(meta, shop)
    first = insights(meta, shop)
    for _ in range(40):
        last = meta.get(
            f"/{V}/{shop.meta_ad_account_id}/insights",
            params={
                "access_token": shop.meta_token,
                "fields": "spend",
                "level": "ad",
                "time_increment": "1",
                "date_preset": "last_90d",
                "limit": "2000",
            },
        )
    assert last.status_code == 200
    assert buc(last, shop)["call_count"] > buc(first, shop)["call_count"]
    assert buc(last, shop)["ads_api_access_tier"] == "standard_access"
    app = json.loads(last.headers["x-app-usage"])
    assert set(app) == {"call_count", "total_cputime", "total_time"}
    assert app["call_count"] >= json.loads(first.headers["x-app-usage"])["call_count"]
    bad = meta.get(f"/{V}/{shop.meta_ad_account_id}/insights", params={"access_token": "x"})
    assert "x-app-usage" in bad.headers


def test_meter_throttles_past_capacity_and_recovers() -> None:
    now = [1000.0]
    meter = UsageMeter(capacity=100, window=120.0, clock=lambda: now[0])
    meter.record("1", 60)
    now[0] += 30
    meter.record("1", 45)
    assert meter.percent("1") == 100
    assert meter.regain_minutes("1") == 2  # the first call leaves the window in 90 s
    now[0] += 91
    assert meter.percent("1") == 45
    assert meter.regain_minutes("1") == 0
    assert meter.percent("2") == 0
