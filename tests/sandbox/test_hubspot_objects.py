"""HubSpot sandbox: objects list/get, archived records, pipelines, faults, clock, oracle."""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterator
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest

from sandbox import server
from sandbox.hubspot import oracle
from sandbox.hubspot.generate import plan, volume
from sandbox.hubspot.records import state_at
from sandbox.world import ShopProfile, World

AURORA = "aurora-goods.myshopify.com"
STAMP = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{3})?Z")


class Portal:
    def __init__(self, world: World, base: str, shop_id: str = AURORA) -> None:
        self.world, self.base = world, base
        self.shop: ShopProfile = world.shops[shop_id]
        self.headers = {"Authorization": f"Bearer {self.shop.hubspot_token}"}

    def get(self, path: str, **params: Any) -> httpx.Response:
        return httpx.get(f"{self.base}{path}", params=params, headers=self.headers, timeout=30)

    def all(self, kind: str, **params: Any) -> list[dict[str, Any]]:
        """Follow paging.next.after to the end, as a connector would."""
        out: list[dict[str, Any]] = []
        after: str | None = None
        while True:
            extra = {"after": after} if after else {}
            page = self.get(f"/crm/v3/objects/{kind}", limit=100, **params, **extra)
            assert page.status_code == 200, page.text
            body = page.json()
            out.extend(body["results"])
            after = body.get("paging", {}).get("next", {}).get("after")
            if not after:
                return out


def start(seed: int = 7) -> tuple[World, server.RunningSandbox]:
    world = World.build(seed=seed)
    return world, server.start(world, ["hubspot"])


@pytest.fixture(scope="module")
def shared() -> Iterator[Portal]:
    world, running = start()
    try:
        yield Portal(world, running.urls["hubspot"])
    finally:
        running.stop()


@pytest.fixture
def fresh() -> Iterator[Portal]:
    world, running = start()
    try:
        yield Portal(world, running.urls["hubspot"])
    finally:
        running.stop()


def test_unknown_token_gets_hubspots_401(shared: Portal) -> None:
    answer = httpx.get(
        f"{shared.base}/crm/v3/objects/deals", headers={"Authorization": "Bearer pat-na1-nope"}
    )
    assert answer.status_code == 401
    body = answer.json()
    assert body["status"] == "error"
    assert body["category"] == "INVALID_AUTHENTICATION"
    assert body["message"].startswith("Authentication credentials not found")
    assert body["correlationId"]


def test_list_pages_through_every_live_deal_once(shared: Portal) -> None:
    first = shared.get("/crm/v3/objects/deals", limit=100)
    assert first.headers["X-HubSpot-RateLimit-Max"] == "190"
    assert int(first.headers["X-HubSpot-RateLimit-Daily-Remaining"]) < 500_000
    link = first.json()["paging"]["next"]["link"]
    assert link.startswith(f"{shared.base}/crm/v3/objects/deals?after=")
    deals = shared.all("deals")
    ids = [int(d["id"]) for d in deals]
    assert ids == sorted(set(ids))
    assert len(ids) > 150
    assert not any(d["archived"] for d in deals)
    for deal in deals[:20]:
        props = deal["properties"]
        assert set(props) == {
            "amount",
            "closedate",
            "createdate",
            "dealname",
            "dealstage",
            "hs_lastmodifieddate",
            "hs_object_id",
            "pipeline",
        }
        assert STAMP.fullmatch(props["createdate"])  # milliseconds only when not zero
        assert deal["updatedAt"] == props["hs_lastmodifieddate"]


def test_limit_is_capped_at_100(shared: Portal) -> None:
    body = shared.get("/crm/v3/objects/contacts", limit=500).json()
    assert len(body["results"]) == 100


def test_archived_records_are_listed_separately(shared: Portal) -> None:
    archived = shared.all("deals", archived="true")
    live = {d["id"] for d in shared.all("deals")}
    assert archived
    assert all(d["archived"] and d["archivedAt"] for d in archived)
    assert not live & {d["id"] for d in archived}
    gone = archived[0]["id"]
    assert shared.get(f"/crm/v3/objects/deals/{gone}").status_code == 404
    found = shared.get(f"/crm/v3/objects/deals/{gone}", archived="true")
    assert found.status_code == 200
    assert found.json()["archived"] is True


def test_properties_and_associations_params(shared: Portal) -> None:
    body = shared.get(
        "/crm/v3/objects/deals",
        limit=50,
        properties="amount,hs_is_closed_won,not_a_property",
        associations="companies",
    ).json()
    deal = body["results"][-1]
    assert set(deal["properties"]) == {
        "amount",
        "hs_is_closed_won",
        "createdate",
        "hs_lastmodifieddate",
        "hs_object_id",
    }
    linked = [d for d in body["results"] if "associations" in d]
    assert linked
    assoc = linked[-1]["associations"]["companies"]["results"][0]
    assert assoc["type"] == "deal_to_company"
    company = shared.get(f"/crm/v3/objects/companies/{assoc['id']}")
    assert company.status_code == 200


def test_pipelines_describe_stages_with_string_metadata(shared: Portal) -> None:
    pipelines = shared.get("/crm/v3/pipelines/deals").json()["results"]
    assert next(p["id"] for p in pipelines) == "default"
    assert len(pipelines) == 2
    for pipe in pipelines:
        orders = [s["displayOrder"] for s in pipe["stages"]]
        assert orders == sorted(orders)
        won = [
            s for s in pipe["stages"] if s["metadata"] == {"isClosed": "true", "probability": "1.0"}
        ]
        assert len(won) == 1
    custom_won = next(
        s["id"] for s in pipelines[1]["stages"] if s["metadata"]["probability"] == "1.0"
    )
    assert custom_won.isdigit()  # custom stages have numeric ids; never hardcode "closedwon"


def test_oracle_matches_what_the_api_serves(shared: Portal) -> None:
    deals = shared.all(
        "deals", properties="amount,dealstage,closedate,createdate,hs_is_closed_won,hs_is_closed"
    )
    tz = ZoneInfo(shared.shop.timezone)
    open_amount: dict[str, Decimal] = defaultdict(Decimal)
    won_by_day: dict[str, Decimal] = defaultdict(Decimal)
    created_by_day: dict[str, int] = defaultdict(int)
    for deal in deals:
        p = deal["properties"]
        created = datetime.fromisoformat(p["createdate"].replace("Z", "+00:00"))
        created_by_day[created.astimezone(tz).date().isoformat()] += 1
        if p["hs_is_closed"] == "false":
            open_amount[p["dealstage"]] += Decimal(p["amount"] or "0")  # null or ""
        elif p["hs_is_closed_won"] == "true":
            closed = datetime.fromisoformat(p["closedate"].replace("Z", "+00:00"))
            won_by_day[closed.astimezone(tz).date().isoformat()] += Decimal(p["amount"] or "0")
    now = oracle.pipeline_now(shared.world, shared.shop)
    assert {k: Decimal(v["amount"]) for k, v in now.items()} == dict(open_amount)
    start = shared.world.history_start(shared.shop)
    days = oracle.daily(shared.world, shared.shop, start, shared.world.now().date())
    assert sum(d["deals_created"] for d in days) == len(deals)
    for day in days:
        assert Decimal(day["won_amount"]) == won_by_day.get(day["date"], Decimal(0))
        assert day["deals_created"] == created_by_day.get(day["date"], 0)


def test_clock_moves_deal_stages_and_creates_deals(fresh: Portal) -> None:
    world, shop = fresh.world, fresh.shop
    now = world.now()
    moving = None
    for index in range(volume(world, shop, "deals").count_by(now)):
        p = plan(world, shop, "deals", index)
        pending = [at for at, change in p.events if now < at <= now + timedelta(days=3)]
        current = state_at(p, now)
        if (
            pending
            and current
            and not current.archived
            and any("dealstage" in dict(change) for at, change in p.events if at in pending)
        ):
            moving = p
            break
    assert moving is not None
    before = fresh.get(f"/crm/v3/objects/deals/{moving.id}").json()["properties"]
    count_before = len(fresh.all("deals"))
    world.advance(timedelta(days=3))
    after = fresh.get(f"/crm/v3/objects/deals/{moving.id}").json()["properties"]
    assert after["dealstage"] != before["dealstage"]
    assert after["hs_lastmodifieddate"] > before["hs_lastmodifieddate"]
    assert len(fresh.all("deals")) > count_before


def test_throttle_fault_is_429_with_retry_after(fresh: Portal) -> None:
    fresh.world.faults.inject("hubspot", fresh.shop.shop_id, "throttle", retry_after=2)
    limited = fresh.get("/crm/v3/objects/deals")
    assert limited.status_code == 429
    assert limited.headers["Retry-After"] == "2"
    body = limited.json()
    assert body["errorType"] == "RATE_LIMIT"
    assert body["policyName"] == "TEN_SECONDLY_ROLLING"
    assert fresh.get("/crm/v3/objects/deals").status_code == 200


@pytest.mark.parametrize(
    ("kind", "params", "status", "check"),
    [
        ("server_error", {}, 500, lambda r: r.json()["status"] == "error"),
        ("server_error", {"status": 502}, 502, lambda r: "text/html" in r.headers["content-type"]),
        ("expired_token", {}, 401, lambda r: r.json()["category"] == "EXPIRED_AUTHENTICATION"),
        ("revoked_token", {}, 401, lambda r: r.json()["category"] == "INVALID_AUTHENTICATION"),
        ("malformed", {}, 200, lambda r: not r.text.rstrip().endswith("}")),
    ],
)
def test_faults_answer_like_hubspot(
    fresh: Portal, kind: str, params: dict[str, Any], status: int, check: Any
) -> None:
    fresh.world.faults.inject("hubspot", fresh.shop.shop_id, kind, **params)
    answer = fresh.get("/crm/v3/objects/companies")
    assert answer.status_code == status
    assert check(answer)
    assert fresh.get("/crm/v3/objects/companies").status_code == 200


def test_same_seed_gives_identical_bytes() -> None:
    bodies = []
    for seed in (5, 5, 6):
        world, running = start(seed)
        try:
            portal = Portal(world, running.urls["hubspot"], "kiri-surf.myshopify.com")
            page = portal.get("/crm/v3/objects/deals", limit=100, associations="contacts")
            bodies.append(page.content.replace(running.urls["hubspot"].encode(), b""))
        finally:
            running.stop()
    assert bodies[0] == bodies[1]
    assert bodies[0] != bodies[2]


def test_slow_fault_trips_a_short_client_timeout(fresh: Portal) -> None:
    fresh.world.faults.inject("hubspot", fresh.shop.shop_id, "slow", seconds=1.0)
    with pytest.raises(httpx.ReadTimeout):
        httpx.get(f"{fresh.base}/crm/v3/objects/deals", headers=fresh.headers, timeout=0.2)
