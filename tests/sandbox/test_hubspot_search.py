"""HubSpot sandbox: CRM search filters, sorting, paging, limits and the 10,000-result cap."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import Any

import httpx
import pytest

from sandbox import server
from sandbox.world import World, make_shop

AURORA = "aurora-goods.myshopify.com"


class Searcher:
    def __init__(self, world: World, base: str, shop_id: str) -> None:
        self.world, self.base = world, base
        token = world.shops[shop_id].hubspot_token
        self.headers = {"Authorization": f"Bearer {token}"}

    def search(self, kind: str, **body: Any) -> httpx.Response:
        return httpx.post(
            f"{self.base}/crm/v3/objects/{kind}/search", json=body, headers=self.headers, timeout=60
        )

    def list_all(self, kind: str) -> list[dict[str, Any]]:
        out: list[dict[str, Any]] = []
        after = ""
        while True:
            params: dict[str, Any] = {"limit": 100, **({"after": after} if after else {})}
            body = httpx.get(
                f"{self.base}/crm/v3/objects/{kind}", params=params, headers=self.headers
            ).json()
            out.extend(body["results"])
            after = body.get("paging", {}).get("next", {}).get("after", "")
            if not after:
                return out


def modified_since(ms: int, prop: str = "hs_lastmodifieddate") -> list[dict[str, Any]]:
    return [{"filters": [{"propertyName": prop, "operator": "GTE", "value": str(ms)}]}]


@pytest.fixture(scope="module")
def tiny() -> Iterator[Searcher]:
    world = World.build(seed=3)
    running = server.start(world, ["hubspot"])
    try:
        yield Searcher(world, running.urls["hubspot"], AURORA)
    finally:
        running.stop()


@pytest.fixture(scope="module")
def big() -> Iterator[Searcher]:
    """One portal with more than 10,000 deals modified inside a short window."""
    shop = make_shop(
        "bulk-outlet", "Bulk Outlet", "USD", "America/New_York",
        history_days=40, orders_per_day=900, index=9,
    )  # fmt: skip
    world = World(seed=3, shops={shop.shop_id: shop})
    running = server.start(world, ["hubspot"])
    try:
        yield Searcher(world, running.urls["hubspot"], shop.shop_id)
    finally:
        running.stop()


def test_search_pages_match_total_in_modified_order(tiny: Searcher) -> None:
    body: dict[str, Any] = {
        "filterGroups": modified_since(0),
        "sorts": [{"propertyName": "hs_lastmodifieddate", "direction": "ASCENDING"}],
        "properties": ["dealstage", "amount"],
        "limit": 200,
    }
    seen: list[dict[str, Any]] = []
    total = None
    while True:
        page = tiny.search("deals", **body)
        assert page.status_code == 200, page.text
        data = page.json()
        total = data["total"]
        seen.extend(data["results"])
        nxt = data.get("paging", {}).get("next")
        if not nxt:
            break
        assert nxt["link"] == f"?after={nxt['after']}"
        body["after"] = nxt["after"]
    stamps = [d["properties"]["hs_lastmodifieddate"] for d in seen]
    assert stamps == sorted(stamps)
    assert len(seen) == total
    assert len({d["id"] for d in seen}) == total
    live = {d["id"] for d in tiny.list_all("deals")}
    assert {d["id"] for d in seen} == live  # search never returns archived deals
    assert "x-hubspot-ratelimit-max" not in page.headers  # search sends no rate headers


def test_between_and_in_filters(tiny: Searcher) -> None:
    now = tiny.world.now()
    low = int((now - timedelta(days=10)).timestamp() * 1000)
    high = int((now - timedelta(days=5)).timestamp() * 1000)
    groups = [
        {
            "filters": [
                {
                    "propertyName": "hs_lastmodifieddate",
                    "operator": "BETWEEN",
                    "value": str(low),
                    "highValue": str(high),
                },
                {"propertyName": "dealstage", "operator": "IN", "values": ["closedwon", "1011203"]},
            ]
        }
    ]
    data = tiny.search("deals", filterGroups=groups, limit=200, properties=["dealstage"]).json()
    assert data["total"] == len(data["results"])
    for deal in data["results"]:
        assert deal["properties"]["dealstage"] in {"closedwon", "1011203"}
        stamp = deal["properties"]["hs_lastmodifieddate"]
        assert (now - timedelta(days=10)).isoformat()[:10] <= stamp[:10]
        assert stamp[:10] <= (now - timedelta(days=5)).isoformat()[:10]


def test_contacts_use_lastmodifieddate(tiny: Searcher) -> None:
    data = tiny.search("contacts", filterGroups=modified_since(0, "lastmodifieddate")).json()
    assert data["total"] > 100
    assert "lastmodifieddate" in data["results"][0]["properties"]
    assert "hs_lastmodifieddate" not in data["results"][0]["properties"]


@pytest.mark.parametrize(
    "body",
    [
        {"limit": 201},
        {"filterGroups": [{"filters": []}] * 6},
        {"filterGroups": [{"filters": [{"propertyName": "amount", "operator": "NEAR"}]}]},
    ],
)
def test_invalid_searches_are_validation_errors(tiny: Searcher, body: dict[str, Any]) -> None:
    answer = tiny.search("deals", **body)
    assert answer.status_code == 400
    assert answer.json()["category"] == "VALIDATION_ERROR"


def test_search_throttle_uses_the_secondly_policy(tiny: Searcher) -> None:
    tiny.world.faults.inject("hubspot", AURORA, "throttle")
    answer = tiny.search("deals")
    assert answer.status_code == 429
    assert answer.json()["policyName"] == "SECONDLY"
    assert answer.headers["Retry-After"] == "1"


def test_paging_past_ten_thousand_is_refused(big: Searcher) -> None:
    body: dict[str, Any] = {
        "filterGroups": modified_since(0),
        "sorts": [{"propertyName": "hs_lastmodifieddate", "direction": "ASCENDING"}],
        "limit": 200,
        "after": "9800",
    }
    last_page = big.search("deals", **body)
    assert last_page.status_code == 200
    data = last_page.json()
    assert data["total"] > 10_000
    assert data["paging"]["next"]["after"] == "10000"  # offered, but unusable
    body["after"] = data["paging"]["next"]["after"]
    refused = big.search("deals", **body)
    assert refused.status_code == 400
    assert refused.json()["category"] == "VALIDATION_ERROR"


def test_reslicing_by_modified_date_reads_everything(big: Searcher) -> None:
    """The connector's strategy: when a slice nears 10,000, restart from the last timestamp."""
    seen: dict[str, str] = {}
    since = 0
    total = big.search("deals", filterGroups=modified_since(0), limit=1).json()["total"]
    while True:
        after = 0
        restarted = False
        while True:
            data = big.search(
                "deals",
                filterGroups=modified_since(since),
                sorts=[{"propertyName": "hs_lastmodifieddate", "direction": "ASCENDING"}],
                limit=200,
                after=str(after),
            ).json()
            for deal in data["results"]:
                seen[deal["id"]] = deal["properties"]["hs_lastmodifieddate"]
            nxt = data.get("paging", {}).get("next")
            if not nxt:
                break
            if int(nxt["after"]) >= 10_000:
                last = data["results"][-1]["properties"]["hs_lastmodifieddate"]
                since = int(_ms(last))
                restarted = True
                break
            after = int(nxt["after"])
        if not restarted:
            break
    assert len(seen) == total


def _ms(stamp: str) -> float:
    return datetime.fromisoformat(stamp.replace("Z", "+00:00")).timestamp() * 1000
