"""The Meta sandbox behaves as the real Marketing API does where connectors break (issue 22, Meta
items 1-4; sources in docs/platforms/meta.md), over real HTTP on loopback."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from datetime import date
from decimal import Decimal
from typing import Any

import httpx
import pytest

from sandbox import server
from sandbox.faults import FaultKind
from sandbox.meta import oracle
from sandbox.meta.usage import UsageMeter
from sandbox.world import ShopProfile, World

V = "v26.0"
DAY = date(2026, 10, 12)
MONTH = (date(2026, 10, 1), date(2026, 10, 30))
USAGE = ("x-business-use-case-usage", "x-ad-account-usage", "x-app-usage")


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


def time_range(since: date, until: date) -> str:
    return json.dumps({"since": since.isoformat(), "until": until.isoformat()})


def read(client: httpx.Client, shop: ShopProfile, **params: str) -> httpx.Response:
    return client.get(
        f"/{V}/{shop.meta_ad_account_id}/insights",
        params={"access_token": shop.meta_token, **params},
    )


def pull(client: httpx.Client, shop: ShopProfile, **params: str) -> list[dict[str, Any]]:
    response = read(client, shop, limit="500", **params)
    rows: list[dict[str, Any]] = []
    while True:
        assert response.status_code == 200, response.text
        rows += response.json()["data"]
        nxt = response.json().get("paging", {}).get("next")
        if not nxt:
            return rows
        response = client.get(nxt)


# 1. Error classification: code, subcode and is_transient, not the HTTP status.


def test_service_unavailable_is_a_transient_400(meta: httpx.Client, world: World) -> None:
    shop = shop_of(world)
    world.faults.inject("meta", shop.shop_id, FaultKind.SERVER_ERROR, code=2)
    r = read(meta, shop, fields="spend")
    assert r.status_code == 400
    e = r.json()["error"]
    assert (e["code"], e["message"], e["type"]) == (
        2,
        "(#2) Service temporarily unavailable",
        "OAuthException",
    )
    assert e["is_transient"] is True
    assert "error_subcode" not in e


def test_insights_timeouts_have_their_own_code_and_subcode(
    meta: httpx.Client, world: World
) -> None:
    shop = shop_of(world)
    seen = {}
    for variant in (1504018, 1504038):
        world.faults.inject("meta", shop.shop_id, FaultKind.INSIGHTS_TIMEOUT, variant=variant)
        r = read(meta, shop, fields="spend")
        seen[variant] = (r.status_code, r.json()["error"])
    status, e = seen[1504018]
    assert (status, e["code"], e["error_subcode"], e["is_transient"]) == (400, 100, 1504018, False)
    assert e["error_user_title"] == "Your request timed out"
    assert "async" in e["error_user_msg"]
    status, e = seen[1504038]
    assert (status, e["code"], e["error_subcode"], e["is_transient"]) == (500, 2, 1504038, True)


def timeout_sequence(seed: int, probability: float, reads: int = 24) -> list[str]:
    """What `reads` sync insights reads get under a random insights_timeout fault injected over
    the admin API, on a fresh sandbox: "ok" or code/subcode."""
    world = World.build(seed=7, size="tiny")
    running = server.start(world, ["meta", "admin"])
    try:
        shop = shop_of(world, 1)
        with httpx.Client(timeout=30) as client:
            injected = client.post(
                running.urls["admin"] + "/_sandbox/faults",
                json={
                    "platform": "meta",
                    "shop_id": shop.shop_id,
                    "kind": "insights_timeout",
                    "times": None,
                    "probability": probability,
                    "seed": seed,
                },
            )
            assert injected.status_code == 201, injected.text
            node = client.get(
                f"{running.urls['meta']}/{V}/{shop.meta_ad_account_id}",
                params={"access_token": shop.meta_token},
            )
            assert node.status_code == 200  # only insights reads time out
            out = []
            for _ in range(reads):
                r = client.get(
                    f"{running.urls['meta']}/{V}/{shop.meta_ad_account_id}/insights",
                    params={"access_token": shop.meta_token, "fields": "spend"},
                )
                if r.status_code == 200:
                    out.append("ok")
                else:
                    e = r.json()["error"]
                    out.append(f"{r.status_code}:{e['code']}/{e.get('error_subcode')}")
            return out
    finally:
        running.stop()


def test_timeouts_are_random_but_reproducible_from_the_seed() -> None:
    first = timeout_sequence(seed=11, probability=0.5)
    assert first == timeout_sequence(seed=11, probability=0.5)
    assert first != timeout_sequence(seed=12, probability=0.5)
    assert 0 < first.count("ok") < len(first)
    failures = set(first) - {"ok"}
    assert failures <= {"400:100/1504018", "500:2/1504038", "500:1/None"}
    assert len(failures) >= 2  # more than one kind of timeout, in no fixed order


# 2. Usage headers: absent at first, then fractional.


def test_usage_headers_are_absent_until_enough_calls_then_fractional() -> None:
    world = World.build(seed=7, size="tiny")
    running = server.start(world, ["meta"])
    try:
        shop = shop_of(world)
        with httpx.Client(base_url=running.urls["meta"], timeout=30) as client:
            quiet = UsageMeter().quiet_calls
            for _ in range(quiet - 1):
                r = read(client, shop, fields="spend")
                assert r.status_code == 200
                assert not any(h in r.headers for h in USAGE)
            r = read(client, shop, fields="spend")
    finally:
        running.stop()
    assert all(h in r.headers for h in USAGE)
    (buc,) = json.loads(r.headers["x-business-use-case-usage"])[shop.meta_ad_account_id[4:]]
    account = json.loads(r.headers["x-ad-account-usage"])
    app = json.loads(r.headers["x-app-usage"])
    for value in (buc["call_count"], account["acc_id_util_pct"], app["call_count"]):
        assert isinstance(value, float)
        assert 0 < value < 1  # a handful of cheap calls: 0.01-0.1 %, never rounded to 0 or 1


# 3. Reach is de-duplicated: a coarser grain's reach is not the sum of the finer one's.


def reach_by(rows: list[dict[str, Any]], key: str) -> dict[str, int]:
    return {f"{r[key]}|{r['date_start']}": int(r["reach"]) for r in rows}


def test_reach_is_not_additive_across_ads_campaigns_or_days(
    meta: httpx.Client, world: World
) -> None:
    shop = shop_of(world)
    day = {"time_range": time_range(DAY, DAY), "time_increment": "1"}
    fields = "campaign_id,ad_id,impressions,reach,frequency"
    ads = pull(meta, shop, level="ad", fields=fields, **day)
    campaigns = pull(meta, shop, level="campaign", fields=fields, **day)
    (account,) = pull(meta, shop, level="account", fields="impressions,reach,frequency", **day)
    reach = int(account["reach"])
    assert reach < sum(int(r["reach"]) for r in campaigns) < sum(int(r["reach"]) for r in ads)
    assert reach >= max(int(r["reach"]) for r in campaigns)
    for campaign in campaigns:
        parts = [int(r["reach"]) for r in ads if r["campaign_id"] == campaign["campaign_id"]]
        assert max(parts) <= int(campaign["reach"]) <= sum(parts)
    assert (
        Decimal(account["frequency"])
        == round(Decimal(int(account["impressions"]) / reach), 6).normalize()
    )
    month = {"time_range": time_range(*MONTH)}
    daily = pull(meta, shop, level="account", fields="reach", time_increment="1", **month)
    (whole,) = pull(meta, shop, level="account", fields="reach", time_increment="all_days", **month)
    assert len(daily) == 30
    assert int(whole["reach"]) < sum(int(r["reach"]) for r in daily) * 0.8


def test_reach_equals_the_oracle_at_each_grain_asked(meta: httpx.Client, world: World) -> None:
    shop = shop_of(world, 2)
    since, until = MONTH
    for level, increment, key in (
        ("ad", "1", "ad_id"),
        ("campaign", "7", "campaign_id"),
        ("account", "all_days", "account_id"),
    ):
        rows = pull(
            meta,
            shop,
            level=level,
            time_increment=increment,
            fields=f"{key},reach",
            time_range=time_range(since, until),
        )
        expected = oracle.reach(
            world,
            shop,
            since,
            until,
            level=level,
            increment=increment if increment == "all_days" else int(increment),
        )
        assert reach_by(rows, key) == {f"{e['id']}|{e['date_start']}": e["reach"] for e in expected}


def test_async_runs_report_the_same_reach(meta: httpx.Client, world: World) -> None:
    shop = shop_of(world, 1)
    params = {
        "level": "campaign",
        "time_increment": "all_days",
        "fields": "campaign_id,reach",
        "time_range": time_range(*MONTH),
    }
    sync = pull(meta, shop, **params)
    run = meta.post(
        f"/{V}/{shop.meta_ad_account_id}/insights",
        data={"access_token": shop.meta_token, **params},
    ).json()["report_run_id"]
    while True:
        status = meta.get(f"/{V}/{run}", params={"access_token": shop.meta_token}).json()
        if status["async_status"] == "Job Completed":
            break
    rows = meta.get(
        f"/{V}/{run}/insights", params={"access_token": shop.meta_token, "limit": "500"}
    ).json()["data"]
    assert reach_by(rows, "campaign_id") == reach_by(sync, "campaign_id")


# 4. Attribution windows, number strings, action types.


def entry(row: dict[str, Any], key: str, action_type: str) -> dict[str, str]:
    return next((e for e in row.get(key, []) if e["action_type"] == action_type), {})


@pytest.fixture(scope="module")
def month_rows(meta: httpx.Client, world: World) -> list[dict[str, Any]]:
    return pull(
        meta,
        shop_of(world),
        level="ad",
        time_increment="1",
        time_range=time_range(*MONTH),
        fields="spend,cpc,ctr,cpm,frequency,actions,action_values,cost_per_action_type",
        action_attribution_windows='["1d_click","7d_click","28d_click","1d_view","7d_view",'
        '"28d_view","1d_ev"]',
    )


def test_view_windows_past_one_day_are_gone_engaged_view_stays(
    month_rows: list[dict[str, Any]],
) -> None:
    engaged = 0
    for row in month_rows:
        for e in row.get("actions", []) + row.get("action_values", []):
            assert "7d_view" not in e
            assert "28d_view" not in e
        purchase = entry(row, "actions", "omni_purchase")
        if "1d_ev" in purchase:
            engaged += 1
            assert int(purchase["1d_ev"]) <= int(purchase["1d_view"])
    assert engaged > 0


NUMBER = re.compile(r"^\d+(\.\d*[1-9])?$")  # "5339.5", "120", "1.435": never "5339.50"


def test_numbers_are_trimmed_decimal_strings(month_rows: list[dict[str, Any]]) -> None:
    values: list[str] = []
    for row in month_rows:
        values += [row[k] for k in ("spend", "cpc", "ctr", "cpm", "frequency") if k in row]
        for key in ("actions", "action_values", "cost_per_action_type"):
            for e in row.get(key, []):
                values += [v for k, v in e.items() if k != "action_type"]
    assert values
    assert all(isinstance(v, str) and NUMBER.match(v) for v in values), [
        v for v in values if not NUMBER.match(v)
    ][:5]
    spends = [row["spend"] for row in month_rows]
    assert any("." not in s or len(s.split(".")[1]) == 1 for s in spends)  # "12.5", "40"


def test_many_action_types_and_purchases_are_an_explicit_set(
    month_rows: list[dict[str, Any]], world: World
) -> None:
    types = {e["action_type"] for row in month_rows for e in row.get("actions", [])}
    assert {"onsite_web_app_purchase", "onsite_web_purchase", "video_view"} <= types
    assert {t for t in types if t.startswith("onsite_conversion.")} >= {
        "onsite_conversion.post_save",
        "onsite_conversion.purchase",
    }
    assert types >= oracle.PURCHASE_ALIASES
    assert not oracle.PURCHASE_ACTION_TYPES & oracle.PURCHASE_ALIASES
    by_day: dict[str, list[int]] = {}
    for row in month_rows:
        counts = by_day.setdefault(row["date_start"], [0, 0])
        for e in row.get("actions", []):
            if e["action_type"] in oracle.PURCHASE_ACTION_TYPES:
                counts[0] += int(e["value"])
            if "purchase" in e["action_type"]:  # the pattern match a connector must not do
                counts[1] += int(e["value"])
    expected = oracle.daily(world, shop_of(world), *MONTH)
    assert {d["date"]: d["purchases"] for d in expected} == {d: c[0] for d, c in by_day.items()}
    assert sum(c[1] for c in by_day.values()) > 2 * sum(d["purchases"] for d in expected)
