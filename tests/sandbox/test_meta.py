"""The Meta sandbox's sync insights protocol over real HTTP: paging, fields, levels, errors."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

import httpx
import pytest

from sandbox import server
from sandbox.meta import oracle
from sandbox.meta.params import retention_floor
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


def shops(world: World) -> list[ShopProfile]:
    return list(world.shops.values())


def time_range(since: date, until: date) -> str:
    return json.dumps({"since": since.isoformat(), "until": until.isoformat()})


def pull(client: httpx.Client, shop: ShopProfile, **params: str) -> list[dict[str, Any]]:
    """Follow `paging.next` to the end, as a connector would."""
    response = client.get(
        f"/{V}/{shop.meta_ad_account_id}/insights",
        params={"access_token": shop.meta_token, **params},
    )
    rows: list[dict[str, Any]] = []
    while True:
        assert response.status_code == 200, response.text
        body = response.json()
        rows += body["data"]
        nxt = body.get("paging", {}).get("next")
        if not nxt:
            return rows
        response = client.get(nxt)


def action(row: dict[str, Any], key: str, action_type: str, window: str = "value") -> str | None:
    for entry in row.get(key, []):
        if entry["action_type"] == action_type:
            return str(entry.get(window, "0"))
    return None


def test_full_history_paged_at_ad_level_equals_the_oracle(meta: httpx.Client, world: World) -> None:
    for shop in shops(world):
        today = world.now().date() + timedelta(days=1)
        since = world.history_start(shop) - timedelta(days=3)
        rows = pull(
            meta,
            shop,
            level="ad",
            time_increment="1",
            time_range=time_range(since, today),
            fields="ad_id,spend,impressions,clicks,actions,action_values",
            limit="500",
        )
        by_day: dict[str, dict[str, Any]] = {}
        for row in rows:
            assert row["date_start"] == row["date_stop"]
            day = by_day.setdefault(
                row["date_start"],
                {
                    "spend": Decimal(0),
                    "impressions": 0,
                    "clicks": 0,
                    "purchases": 0,
                    "purchase_value": Decimal(0),
                },
            )
            day["spend"] += Decimal(row["spend"])
            day["impressions"] += int(row["impressions"])
            day["clicks"] += int(row["clicks"])
            day["purchases"] += int(action(row, "actions", "omni_purchase") or 0)
            day["purchase_value"] += Decimal(action(row, "action_values", "omni_purchase") or 0)
        expected = oracle.daily(world, shop, since, today)
        assert sum(1 for e in expected if e["impressions"]) == len(by_day) > 100
        for e in expected:
            got = by_day.get(e["date"])
            if got is None:
                assert e["impressions"] == 0
                continue
            assert got["spend"] == Decimal(e["spend"])
            assert got["impressions"] == e["impressions"]
            assert got["clicks"] == e["clicks"]
            assert got["purchases"] == e["purchases"]
            assert got["purchase_value"] == Decimal(e["purchase_value"])
        assert sum(e["purchases"] for e in expected) > 50


def test_only_requested_fields_come_back_as_strings(meta: httpx.Client, world: World) -> None:
    shop = shops(world)[1]
    day = world.now().date() - timedelta(days=10)
    rows = pull(
        meta,
        shop,
        level="ad",
        time_increment="1",
        time_range=time_range(day, day),
        fields='["account_id","account_currency","campaign_name","ad_id","spend","reach"]',
    )
    assert rows
    for row in rows:
        assert list(row) == [
            "account_id",
            "account_currency",
            "campaign_name",
            "ad_id",
            "spend",
            "reach",
            "date_start",
            "date_stop",
        ]
        assert row["account_id"] == shop.meta_ad_account_id.removeprefix("act_")
        assert row["account_currency"] == "EUR"
        assert len(row["ad_id"]) == 18
        assert row["ad_id"].isdigit()
        assert isinstance(row["spend"], str)
        assert Decimal(row["spend"]) > 0
        assert isinstance(row["reach"], str)
        assert row["reach"].isdigit()


def test_attribution_windows_nest_and_default_value_is_7d_click_plus_1d_view(
    meta: httpx.Client, world: World
) -> None:
    shop = shops(world)[0]
    rows = pull(
        meta,
        shop,
        level="ad",
        time_increment="1",
        fields="actions,action_values",
        time_range=time_range(world.history_start(shop), world.now().date()),
        limit="500",
        action_attribution_windows='["1d_click","7d_click","28d_click","1d_view","7d_view"]',
    )
    seen = 0
    for row in rows:
        for entry in row.get("actions", []):
            if entry["action_type"] != "omni_purchase":
                continue
            seen += 1
            n = {w: int(entry.get(w, 0)) for w in ("1d_click", "7d_click", "28d_click", "1d_view")}
            assert n["1d_click"] <= n["7d_click"] <= n["28d_click"]
            assert int(entry["value"]) == n["7d_click"] + n["1d_view"]
            assert "7d_view" not in entry  # Meta stopped returning it in January 2026
    assert seen > 20


def test_levels_and_increments_aggregate_the_same_spend(meta: httpx.Client, world: World) -> None:
    shop = shops(world)[2]
    since, until = world.now().date() - timedelta(days=40), world.now().date() - timedelta(days=1)
    common = {"time_range": time_range(since, until), "fields": "spend", "limit": "500"}
    totals = {}
    for level, increment in (
        ("ad", "1"),
        ("campaign", "1"),
        ("account", "7"),
        ("adset", "monthly"),
        ("account", "all_days"),
    ):
        rows = pull(meta, shop, level=level, time_increment=increment, **common)
        totals[(level, increment)] = sum(Decimal(r["spend"]) for r in rows)
    assert len(set(totals.values())) == 1
    weekly = pull(meta, shop, level="account", time_increment="7", **common)
    assert weekly[0]["date_start"] == since.isoformat()
    assert weekly[0]["date_stop"] == (since + timedelta(days=6)).isoformat()
    assert weekly[-1]["date_stop"] == until.isoformat()


def test_cursor_paging_forward_and_back(meta: httpx.Client, world: World) -> None:
    shop = shops(world)[0]
    base = {
        "access_token": shop.meta_token,
        "level": "ad",
        "time_increment": "1",
        "limit": "5",
        "time_range": time_range(date(2026, 10, 1), date(2026, 10, 10)),
        "fields": "ad_id",
    }
    path = f"/{V}/{shop.meta_ad_account_id}/insights"
    first = meta.get(path, params=base).json()
    assert first["paging"]["cursors"]["before"] == "MAZDZD"  # Meta's encoding of position 0
    assert "previous" not in first["paging"]
    nxt = first["paging"]["next"]
    assert nxt.startswith(str(meta.base_url).rstrip("/") + path)
    second = meta.get(nxt).json()
    assert second["data"] != first["data"]
    back = meta.get(second["paging"]["previous"]).json()
    assert back["data"] == first["data"]
    bearer = meta.get(
        path,
        params={k: v for k, v in base.items() if k != "access_token"},
        headers={"Authorization": f"Bearer {shop.meta_token}"},
    )
    assert bearer.json()["data"] == first["data"]
    assert "access_token" not in bearer.json()["paging"]["next"]


def test_ad_account_node(meta: httpx.Client, world: World) -> None:
    shop = shops(world)[2]
    r = meta.get(
        f"/{V}/{shop.meta_ad_account_id}",
        params={
            "access_token": shop.meta_token,
            "fields": "name,currency,timezone_name,timezone_offset_hours_utc",
        },
    )
    assert r.status_code == 200
    assert r.json() == {
        "id": shop.meta_ad_account_id,
        "name": "Kiri Surf Co – Ads",
        "currency": "AUD",
        "timezone_name": "Pacific/Kiritimati",
        "timezone_offset_hours_utc": 14.0,
    }
    assert "\\/" in r.text  # Meta escapes slashes in JSON strings


def error_of(response: httpx.Response, status: int) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/json; charset=UTF-8"
    error: dict[str, Any] = response.json()["error"]
    assert len(error["fbtrace_id"]) == 23
    return error


@pytest.mark.parametrize(
    ("params", "code", "subcode", "message"),
    [
        (
            {"time_range": '{"since":"2026-10-05","until":"2026-10-01"}'},
            100,
            None,
            "(#100) time_range",
        ),
        ({"time_range": "not json"}, 100, None, "(#100) time_range"),
        ({"level": "creative"}, 100, None, "(#100) level must be one of"),
        ({"fields": "spend,revenue"}, 100, None, "(#100) fields[1] must be one of"),
        ({"time_increment": "0"}, 100, None, "(#100) time_increment"),
        ({"action_attribution_windows": "2d_click"}, 100, None, "(#100) action_attribution"),
    ],
)
def test_invalid_parameters(
    meta: httpx.Client,
    world: World,
    params: dict[str, str],
    code: int,
    subcode: int | None,
    message: str,
) -> None:
    shop = shops(world)[0]
    r = meta.get(
        f"/{V}/{shop.meta_ad_account_id}/insights",
        params={"access_token": shop.meta_token, **params},
    )
    error = error_of(r, 400)
    assert (error["code"], error.get("error_subcode"), error["type"]) == (
        code,
        subcode,
        "OAuthException",
    )
    assert error["message"].startswith(message)


def test_retention_is_37_months_from_the_account_local_today(
    meta: httpx.Client, world: World
) -> None:
    shop = shops(world)[2]  # Kiritimati is already on the next day
    today = world.now().date() + timedelta(days=1)
    floor = retention_floor(today)
    path = f"/{V}/{shop.meta_ad_account_id}/insights"
    ok = meta.get(
        path,
        params={
            "access_token": shop.meta_token,
            "fields": "spend",
            "time_range": time_range(floor, floor + timedelta(days=5)),
        },
    )
    assert ok.status_code == 200
    assert ok.json() == {"data": []}
    r = meta.get(
        path,
        params={
            "access_token": shop.meta_token,
            "fields": "spend",
            "time_range": time_range(floor - timedelta(days=1), floor),
        },
    )
    error = error_of(r, 400)
    assert error["code"] == 3018
    assert error["message"] == (
        "(#3018) The start date of the time range cannot be beyond 37 months from the current date"
    )


def test_sync_refuses_too_much_data(meta: httpx.Client, world: World) -> None:
    shop = shops(world)[1]
    today = world.now().date()
    r = meta.get(
        f"/{V}/{shop.meta_ad_account_id}/insights",
        params={
            "access_token": shop.meta_token,
            "level": "ad",
            "time_increment": "1",
            "time_range": time_range(retention_floor(today), today),
        },
    )
    assert r.status_code == 500
    # The real body is bare: no type, no subcode, no fbtrace_id.
    message = "Please reduce the amount of data you're asking for, then retry your request"
    assert r.json() == {"error": {"message": message, "code": 1}}


def test_auth_and_routing_errors(meta: httpx.Client, world: World) -> None:
    aurora, berlin = shops(world)[:2]
    path = f"/{V}/{aurora.meta_ad_account_id}/insights"
    assert error_of(meta.get(path), 400)["code"] == 104
    bad = meta.get(path, params={"access_token": "EAAnope"})
    assert error_of(bad, 400)["code"] == 190
    assert bad.headers["www-authenticate"].startswith('OAuth "Facebook Platform" "invalid_token"')
    foreign = error_of(meta.get(path, params={"access_token": berlin.meta_token}), 400)
    assert (foreign["code"], foreign["error_subcode"], foreign["type"]) == (
        100,
        33,
        "GraphMethodException",
    )
    old = meta.get(
        f"/v21.0/{aurora.meta_ad_account_id}/insights", params={"access_token": aurora.meta_token}
    )
    assert error_of(old, 400)["code"] == 2635
    assert "v26.0" in old.json()["error"]["message"]
    future = meta.get(
        f"/v99.0/{aurora.meta_ad_account_id}/insights", params={"access_token": aurora.meta_token}
    )
    assert error_of(future, 400)["code"] == 2500
    assert error_of(meta.get(f"/{V}/act_1/adsets"), 400)["code"] == 2500
    assert (
        meta.get(
            f"/v24.0/{aurora.meta_ad_account_id}", params={"access_token": aurora.meta_token}
        ).status_code
        == 200
    )


def test_me_and_its_ad_accounts(meta: httpx.Client, world: World) -> None:
    shop = shops(world)[1]
    me = meta.get(f"/{V}/me", params={"access_token": shop.meta_token})
    assert me.status_code == 200
    assert me.json()["name"] == "Berlin Botanics Ads Admin"
    accounts = meta.get(
        f"/{V}/me/adaccounts",
        params={"access_token": shop.meta_token, "fields": "account_id,currency,timezone_name"},
    ).json()
    assert accounts["data"] == [
        {
            "id": shop.meta_ad_account_id,
            "account_id": shop.meta_ad_account_id.removeprefix("act_"),
            "currency": "EUR",
            "timezone_name": "Europe/Berlin",
        }
    ]
    assert (
        error_of(meta.get(f"/{V}/me/insights", params={"access_token": shop.meta_token}), 400)[
            "error_subcode"
        ]
        == 33
    )
