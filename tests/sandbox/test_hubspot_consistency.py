"""HubSpot sandbox: search is eventually consistent (issue 22, item 10).

Reads (list, get) see a change at once; search sees it only once the record is re-indexed, up to
the shop's `hubspot_search_lag_seconds` later, and a different while for every change. Meanwhile
a search matches the record's indexed (older) values but answers with its current body, so it
comes back with `updatedAt` past the window that matched it. Sources: docs/platforms/hubspot.md.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import Any

import httpx
import pytest

from sandbox import server
from sandbox.hubspot.generate import iso, plan, volume
from sandbox.hubspot.records import index_lag, state_at
from sandbox.world import ShopProfile, World, make_shop

LAG = 45.0


class Portal:
    def __init__(self, world: World, base: str, shop: ShopProfile) -> None:
        self.world, self.base, self.shop = world, base, shop
        self.http = httpx.Client(
            base_url=base, headers={"Authorization": f"Bearer {shop.hubspot_token}"}, timeout=60
        )

    def search(self, *filters: dict[str, Any]) -> list[dict[str, Any]]:
        body = {"filterGroups": [{"filters": list(filters)}], "limit": 200}
        answer = self.http.post("/crm/v3/objects/deals/search", json=body)
        assert answer.status_code == 200, answer.text
        assert "paging" not in answer.json()
        return list(answer.json()["results"])

    def read(self, deal_id: str) -> dict[str, Any]:
        answer = self.http.get(f"/crm/v3/objects/deals/{deal_id}")
        assert answer.status_code == 200, answer.text
        return dict(answer.json())

    def move_to(self, when: datetime) -> None:
        self.world.advance(when - self.world.now())


def ms(ts: datetime) -> str:
    return str(int(ts.timestamp() * 1000))


def ids(*deal_ids: str) -> dict[str, Any]:
    return {"propertyName": "hs_object_id", "operator": "IN", "values": list(deal_ids)}


def since(ts: datetime) -> dict[str, Any]:
    return {"propertyName": "hs_lastmodifieddate", "operator": "GTE", "value": ms(ts)}


def start(lag: float = LAG) -> tuple[Portal, server.RunningSandbox]:
    shop = make_shop(
        "lag-lane", "Lag Lane", "USD", "America/Chicago",
        history_days=10, orders_per_day=200, index=8,
    )  # fmt: skip
    # No bulk edits here: their thousand-deal instant would be every deal's next change.
    shop = dataclasses.replace(shop, hubspot_search_lag_seconds=lag, hubspot_bulk_edit_size=0)
    world = World(seed=11, shops={shop.shop_id: shop})
    running = server.start(world, ["hubspot"])
    return Portal(world, running.urls["hubspot"], shop), running


@pytest.fixture
def portal() -> Iterator[Portal]:
    p, running = start()
    try:
        yield p
    finally:
        p.http.close()
        running.stop()


def pending_changes(p: Portal, hours: int = 24) -> list[tuple[datetime, datetime, str, datetime]]:
    """(change time, time it becomes searchable, deal id, its previous stamp) of every deal
    change in the next `hours`, on deals that exist and stay live, in change order."""
    now = p.world.now()
    out = []
    for index in range(volume(p.world, p.shop, "deals").count_by(now)):
        life = plan(p.world, p.shop, "deals", index)
        before = state_at(life, now)
        if before is None or before.archived or life.archived_at is not None:
            continue
        for at, _ in life.events:
            if now < at <= now + timedelta(hours=hours):
                lag = index_lag(life, at, p.shop.hubspot_search_lag_seconds)
                out.append((at, at + lag, life.id, before.updated))
                break  # the first pending change only: `before` is its previous state
    return sorted(out)


def test_a_just_changed_deal_is_missing_from_search_then_appears(portal: Portal) -> None:
    at, visible, deal_id, previous = pending_changes(portal)[0]
    portal.move_to(at + (visible - at) / 2)
    assert portal.read(deal_id)["updatedAt"] == iso(at)  # reads see the change at once
    assert portal.search(since(at), ids(deal_id)) == []  # search does not yet
    portal.move_to(visible + timedelta(milliseconds=1))
    [found] = portal.search(since(at), ids(deal_id))
    assert found["updatedAt"] == iso(at)
    assert previous < at


def test_search_answers_past_the_requested_upper_bound(portal: Portal) -> None:
    at, visible, deal_id, previous = pending_changes(portal)[0]
    portal.move_to(at + (visible - at) / 2)
    window = {
        "propertyName": "hs_lastmodifieddate",
        "operator": "BETWEEN",
        "value": ms(previous),
        "highValue": ms(at - timedelta(milliseconds=1)),
    }
    [found] = portal.search(window, ids(deal_id))  # matched on the indexed, older stamp …
    assert found["updatedAt"] == iso(at)  # … answered with the current one, past highValue
    assert found["properties"]["hs_lastmodifieddate"] == iso(at)
    portal.move_to(visible + timedelta(milliseconds=1))
    assert portal.search(window, ids(deal_id)) == []


def test_a_later_change_can_be_searchable_before_an_earlier_one() -> None:
    """Why the cursor needs an overlap: after seeing the later change, `GTE cursor` never
    returns the earlier one; `GTE cursor - lag` does. (A 15-minute lag here, so that two
    changes of this small portal fall within one lag of each other.)"""
    portal, running = start(lag=900.0)
    try:
        _later_first(portal, 900.0)
    finally:
        portal.http.close()
        running.stop()


def _later_first(portal: Portal, lag: float) -> None:
    changes = pending_changes(portal)
    pair = next(
        (a, b)
        for i, a in enumerate(changes)
        for b in changes[i + 1 :]
        if a[0] < b[0] < a[1] and b[1] < a[1] and b[2] != a[2]
    )
    (early_at, early_visible, early_id, _), (late_at, late_visible, late_id, _) = pair
    portal.move_to(late_visible + timedelta(milliseconds=1))
    seen = portal.search(since(early_at), ids(early_id, late_id))
    assert [d["id"] for d in seen] == [late_id]
    cursor = datetime.fromisoformat(seen[0]["updatedAt"].replace("Z", "+00:00"))
    portal.move_to(early_visible + timedelta(milliseconds=1))
    assert [d["id"] for d in portal.search(since(cursor), ids(early_id, late_id))] == [late_id]
    overlap = portal.search(since(cursor - timedelta(seconds=lag)), ids(early_id, late_id))
    assert {d["id"] for d in overlap} == {early_id, late_id}
    assert early_at < late_at


def test_the_lag_is_a_shop_option_and_zero_means_consistent() -> None:
    p, running = start(lag=0.0)
    try:
        at, _, deal_id, _ = pending_changes(p)[0]
        p.move_to(at)
        [found] = p.search(since(at), ids(deal_id))
        assert found["updatedAt"] == iso(at)
    finally:
        p.http.close()
        running.stop()
