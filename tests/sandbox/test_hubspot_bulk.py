"""HubSpot sandbox: bulk edits and the 10,000-result cap (issue 22, item 11).

A bulk edit stamps thousands of records with one hs_lastmodifieddate; every world has them. A
shop option (`hubspot_bulk_edit_size`) makes more than 10,000 share one stamp, where re-slicing
by timestamp cannot make progress and only hs_object_id within the stamp can. Past 10,000
results search answers HTTP 400. Sources: docs/platforms/hubspot.md.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from datetime import UTC, datetime, time, timedelta
from typing import Any

import httpx
import pytest

from sandbox import server
from sandbox.hubspot.catalog import BULK_EDITS, BULK_OWNER
from sandbox.hubspot.generate import iso
from sandbox.world import ShopProfile, World, make_shop


class Portal:
    def __init__(self, world: World, base: str, shop: ShopProfile) -> None:
        self.world, self.base, self.shop = world, base, shop
        self.http = httpx.Client(
            base_url=base, headers={"Authorization": f"Bearer {shop.hubspot_token}"}, timeout=60
        )

    def search(self, kind: str, **body: Any) -> httpx.Response:
        return self.http.post(f"/crm/v3/objects/{kind}/search", json=body)

    def bulk_at(self, kind: str, future: bool) -> datetime:
        day = self.world.history_start(self.shop) + timedelta(days=self.shop.history_days)
        midnight = datetime.combine(day, time(0), UTC)
        offsets = [e.after_anchor_day for e in BULK_EDITS if e.kind == kind]
        return midnight + next(o for o in offsets if (o > timedelta(0)) is future)


def ms(ts: datetime) -> str:
    return str(int(ts.timestamp() * 1000))


def stamped(prop: str, ts: datetime) -> dict[str, Any]:
    return {"propertyName": prop, "operator": "EQ", "value": ms(ts)}


def after_id(last: str) -> dict[str, Any]:
    return {"propertyName": "hs_object_id", "operator": "GT", "value": last}


@pytest.fixture(scope="module")
def small() -> Iterator[Portal]:
    world = World.build(seed=7, size="small")
    shop = world.shops["aurora-goods.myshopify.com"]
    running = server.start(world, ["hubspot"])
    portal = Portal(world, running.urls["hubspot"], shop)
    try:
        yield portal
    finally:
        portal.http.close()
        running.stop()


@pytest.fixture(scope="module")
def crowded() -> Iterator[Portal]:
    """More than 10,000 deals stamped by one bulk edit: opt in through the shop option."""
    shop = make_shop(
        "crowd-works", "Crowd Works", "USD", "America/Denver",
        history_days=20, orders_per_day=1300, index=10,
    )  # fmt: skip
    shop = dataclasses.replace(shop, hubspot_bulk_edit_size=20_000)
    world = World(seed=5, shops={shop.shop_id: shop})
    running = server.start(world, ["hubspot"])
    portal = Portal(world, running.urls["hubspot"], shop)
    at = portal.bulk_at("deals", future=True)
    world.advance(at - world.now() + timedelta(seconds=shop.hubspot_search_lag_seconds + 1))
    try:
        yield portal
    finally:
        portal.http.close()
        running.stop()


def test_the_world_has_thousands_of_records_on_one_stamp(small: Portal) -> None:
    at = small.bulk_at("contacts", future=False)
    body = small.search(
        "contacts",
        filterGroups=[{"filters": [stamped("lastmodifieddate", at)]}],
        properties=["hubspot_owner_id"],
        limit=200,
    ).json()
    assert body["total"] > 1000
    for contact in body["results"]:
        assert contact["updatedAt"] == iso(at)
        assert contact["properties"]["hubspot_owner_id"] == BULK_OWNER
    assert iso(at).endswith(":00Z")  # this one fell on a whole second: no milliseconds


def test_default_worlds_stay_under_the_cap_on_one_stamp(small: Portal) -> None:
    for kind, prop in (("deals", "hs_lastmodifieddate"), ("contacts", "lastmodifieddate")):
        at = small.bulk_at(kind, future=False)
        body = small.search(kind, filterGroups=[{"filters": [stamped(prop, at)]}], limit=1)
        assert 0 < body.json()["total"] <= small.shop.hubspot_bulk_edit_size < 10_000


def test_more_than_ten_thousand_on_one_stamp_and_the_400_past_the_cap(crowded: Portal) -> None:
    at = crowded.bulk_at("deals", future=True)
    body: dict[str, Any] = {
        "filterGroups": [{"filters": [stamped("hs_lastmodifieddate", at)]}],
        "sorts": [{"propertyName": "hs_lastmodifieddate", "direction": "ASCENDING"}],
        "limit": 200,
        "after": "9800",
    }
    last_page = crowded.search("deals", **body)
    assert last_page.status_code == 200, last_page.text
    data = last_page.json()
    assert data["total"] > 10_000
    assert {d["updatedAt"] for d in data["results"]} == {iso(at)}
    assert data["paging"]["next"]["after"] == "10000"  # offered, but refused:
    refused = crowded.search("deals", **{**body, "after": "10000"})
    assert refused.status_code == 400
    error = refused.json()
    assert error["status"] == "error"
    assert error["category"] == "VALIDATION_ERROR"
    assert error["correlationId"] == refused.headers["X-HubSpot-Correlation-Id"]
    # Re-slicing by the timestamp alone starts over at the same records: no progress.
    again = crowded.search("deals", **{**body, "after": "0"}).json()
    first = crowded.search(
        "deals",
        filterGroups=[{"filters": [{**stamped("hs_lastmodifieddate", at), "operator": "GTE"}]}],
        sorts=body["sorts"],
        limit=200,
    ).json()
    assert [d["id"] for d in first["results"]] == [d["id"] for d in again["results"]]


def test_hs_object_id_within_the_stamp_reads_every_record_once(crowded: Portal) -> None:
    at = crowded.bulk_at("deals", future=True)
    seen: list[str] = []
    last = "0"
    total = None
    while True:
        after = 0
        while True:
            page = crowded.search(
                "deals",
                filterGroups=[{"filters": [stamped("hs_lastmodifieddate", at), after_id(last)]}],
                sorts=[{"propertyName": "hs_object_id", "direction": "ASCENDING"}],
                properties=["hs_object_id"],
                limit=200,
                after=str(after),
            )
            assert page.status_code == 200, page.text
            data = page.json()
            total = data["total"] if total is None else total
            seen.extend(d["id"] for d in data["results"])
            nxt = data.get("paging", {}).get("next")
            if not nxt or int(nxt["after"]) >= 10_000:
                break
            after = int(nxt["after"])
        if not nxt:
            break
        last = seen[-1]  # the next slice: same stamp, ids past the last one read
    assert total > 10_000
    assert len(seen) == len(set(seen)) == total


def test_one_sort_rule_per_search(crowded: Portal) -> None:
    answer = crowded.search(
        "deals",
        sorts=[
            {"propertyName": "hs_lastmodifieddate", "direction": "ASCENDING"},
            {"propertyName": "hs_object_id", "direction": "ASCENDING"},
        ],
    )
    assert answer.status_code == 400
    assert answer.json()["category"] == "VALIDATION_ERROR"
