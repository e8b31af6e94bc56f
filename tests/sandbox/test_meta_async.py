"""Async insights report runs over real HTTP: create, poll to completion, read pages, failures."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import httpx
import pytest

from sandbox import server
from sandbox.faults import FaultKind
from sandbox.world import ShopProfile, World

V = "v26.0"
FIELDS = ["campaign_id", "adset_id", "ad_id", "spend", "impressions", "actions", "action_values"]


@pytest.fixture(scope="module")
def world() -> World:
    return World.build(seed=7, size="tiny")


@pytest.fixture(scope="module")
def meta(world: World) -> Iterator[httpx.Client]:
    running = server.start(world, ["meta"])
    with httpx.Client(base_url=running.urls["meta"], timeout=30) as client:
        yield client
    running.stop()


def report_params(world: World, shop: ShopProfile) -> dict[str, str]:
    until = world.now().date()
    return {
        "level": "ad",
        "time_increment": "1",
        "fields": json.dumps(FIELDS),
        "time_range": json.dumps(
            {"since": world.history_start(shop).isoformat(), "until": until.isoformat()}
        ),
        "action_attribution_windows": '["7d_click","1d_view"]',
    }


def read_all(client: httpx.Client, url: str, params: dict[str, str]) -> list[dict[str, Any]]:
    response = client.get(url, params=params)
    rows: list[dict[str, Any]] = []
    while True:
        assert response.status_code == 200, response.text
        body = response.json()
        rows += body["data"]
        if "next" not in body.get("paging", {}):
            return rows
        response = client.get(body["paging"]["next"])


def poll(client: httpx.Client, shop: ShopProfile, run_id: str) -> list[tuple[str, int]]:
    seen = []
    for _ in range(20):
        r = client.get(f"/{V}/{run_id}", headers={"Authorization": f"Bearer {shop.meta_token}"})
        assert r.status_code == 200, r.text
        node = r.json()
        assert node["id"] == run_id
        assert node["account_id"] == shop.meta_ad_account_id.removeprefix("act_")
        seen.append((node["async_status"], node["async_percent_completion"]))
        if node["async_status"] in ("Job Completed", "Job Failed", "Job Skipped"):
            return seen
    raise AssertionError(f"report run never finished: {seen}")


def test_report_run_lifecycle_matches_the_sync_answer(meta: httpx.Client, world: World) -> None:
    shop = next(iter(world.shops.values()))
    params = report_params(world, shop)
    created = meta.post(
        f"/{V}/{shop.meta_ad_account_id}/insights",
        data={"access_token": shop.meta_token, **params},
    )
    assert created.status_code == 200
    run_id = created.json()["report_run_id"]
    assert list(created.json()) == ["report_run_id"]
    assert run_id.isdigit()
    assert len(run_id) == 16

    early = meta.get(f"/{V}/{run_id}/insights", params={"access_token": shop.meta_token})
    assert early.status_code == 400
    assert early.json()["error"]["error_subcode"] == 1815107

    seen = poll(meta, shop, run_id)
    statuses = [s for s, _ in seen]
    assert statuses[0] == "Job Not Started"
    assert "Job Started" in statuses
    assert "Job Running" in statuses
    assert statuses[-1] == "Job Completed"
    percents = [p for _, p in seen]
    assert percents == sorted(percents)
    assert percents[-1] == 100
    assert 0 < percents[-2] < 100

    token = {"access_token": shop.meta_token, "limit": "300"}
    from_run = read_all(meta, f"/{V}/{run_id}/insights", token)
    sync = read_all(
        meta,
        f"/{V}/{shop.meta_ad_account_id}/insights",
        {**params, **token},
    )
    assert len(from_run) > 500
    assert from_run == sync


def test_report_run_accepts_a_json_body_and_snapshots_its_time(world: World) -> None:
    fresh = World.build(seed=7, size="tiny")
    running = server.start(fresh, ["meta"])
    try:
        with httpx.Client(base_url=running.urls["meta"], timeout=30) as client:
            shop = list(fresh.shops.values())[1]
            params = report_params(fresh, shop)
            created = client.post(
                f"/{V}/{shop.meta_ad_account_id}/insights",
                json={**params, "fields": FIELDS},
                headers={"Authorization": f"OAuth {shop.meta_token}"},
            )
            assert created.status_code == 200, created.text
            run_id = created.json()["report_run_id"]
            before = read_all(
                client,
                f"/{V}/{shop.meta_ad_account_id}/insights",
                {**params, "access_token": shop.meta_token, "limit": "500"},
            )
            fresh.advance(timedelta(hours=20))
            assert poll(client, shop, run_id)[-1] == ("Job Completed", 100)
            rows = read_all(
                client, f"/{V}/{run_id}/insights", {"access_token": shop.meta_token, "limit": "500"}
            )
            assert rows == before  # the run answers as of its creation, whatever the clock did
    finally:
        running.stop()


def test_bulk_failed_fault_fails_the_next_run(world: World) -> None:
    fresh = World.build(seed=7, size="tiny")
    running = server.start(fresh, ["meta"])
    try:
        with httpx.Client(base_url=running.urls["meta"], timeout=30) as client:
            shop = list(fresh.shops.values())[2]
            fresh.faults.inject("meta", shop.shop_id, FaultKind.BULK_FAILED)
            url = f"/{V}/{shop.meta_ad_account_id}/insights"
            body = {"access_token": shop.meta_token, **report_params(fresh, shop)}
            failed_id = client.post(url, data=body).json()["report_run_id"]
            ok_id = client.post(url, data=body).json()["report_run_id"]
            assert failed_id != ok_id
            assert poll(client, shop, failed_id)[-1][0] == "Job Failed"
            node = client.get(f"/{V}/{failed_id}", params={"access_token": shop.meta_token}).json()
            assert node["error_code"] == -2
            assert node["error_subcode"] == 2490547
            read = client.get(
                f"/{V}/{failed_id}/insights", params={"access_token": shop.meta_token}
            )
            assert read.status_code == 400
            assert read.json()["error"]["message"] == "Error accessing adreport job."
            assert poll(client, shop, ok_id)[-1][0] == "Job Completed"
    finally:
        running.stop()


def test_report_runs_are_private_to_their_account(meta: httpx.Client, world: World) -> None:
    aurora, berlin = list(world.shops.values())[:2]
    run_id = meta.post(
        f"/{V}/{aurora.meta_ad_account_id}/insights",
        data={"access_token": aurora.meta_token, **report_params(world, aurora)},
    ).json()["report_run_id"]
    r = meta.get(f"/{V}/{run_id}", params={"access_token": berlin.meta_token})
    assert r.status_code == 400
    assert (r.json()["error"]["code"], r.json()["error"]["error_subcode"]) == (100, 33)
    missing = meta.get(f"/{V}/1234567890123456", params={"access_token": aurora.meta_token})
    assert missing.json()["error"]["type"] == "GraphMethodException"


def test_fields_param_on_a_report_run(meta: httpx.Client, world: World) -> None:
    shop = next(iter(world.shops.values()))
    run_id = meta.post(
        f"/{V}/{shop.meta_ad_account_id}/insights",
        params={"access_token": shop.meta_token, **report_params(world, shop)},
    ).json()["report_run_id"]
    r = meta.get(
        f"/{V}/{run_id}",
        params={"access_token": shop.meta_token, "fields": "async_status,async_percent_completion"},
    )
    assert r.json() == {
        "id": run_id,
        "async_status": "Job Not Started",
        "async_percent_completion": 0,
    }


def test_a_run_left_unpolled_for_a_day_is_skipped() -> None:
    fresh = World.build(seed=7, size="tiny")
    running = server.start(fresh, ["meta"])
    try:
        with httpx.Client(base_url=running.urls["meta"], timeout=30) as client:
            shop = next(iter(fresh.shops.values()))
            url = f"/{V}/{shop.meta_ad_account_id}/insights"
            body = {"access_token": shop.meta_token, **report_params(fresh, shop)}
            run_id = client.post(url, data=body).json()["report_run_id"]
            status = client.get(f"/{V}/{run_id}", params={"access_token": shop.meta_token})
            assert status.json()["async_status"] == "Job Not Started"
            fresh.advance(timedelta(days=2))
            assert poll(client, shop, run_id) == [("Job Skipped", 0)]
            read = client.get(f"/{V}/{run_id}/insights", params={"access_token": shop.meta_token})
            assert read.status_code == 400
            fresh.advance(timedelta(days=30))
            gone = client.get(f"/{V}/{run_id}", params={"access_token": shop.meta_token})
            assert gone.json()["error"]["error_subcode"] == 33
    finally:
        running.stop()
