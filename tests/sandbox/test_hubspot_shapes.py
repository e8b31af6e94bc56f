"""HubSpot sandbox: the shapes real portals answer with (issue 22, items 9 and 12).

Deals with no amount (null) or a cleared one (""), open deals with no close date, datetimes with
and without milliseconds, date-type properties as epoch-millisecond strings, and 429 bodies whose
fields vary (errorType, policyName and requestId always; groupName sometimes; category not
dependable). Sources: docs/platforms/hubspot.md.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import httpx
import pytest

from sandbox import server
from sandbox.world import ShopProfile, World

AURORA = "aurora-goods.myshopify.com"
WITH_MS = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z")
WHOLE_SECOND = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ")


class Portal:
    def __init__(self, world: World, base: str) -> None:
        self.world, self.base = world, base
        self.shop: ShopProfile = world.shops[AURORA]
        token = self.shop.hubspot_token
        self.http = httpx.Client(
            base_url=base, headers={"Authorization": f"Bearer {token}"}, timeout=60
        )

    def get(self, path: str, **params: Any) -> httpx.Response:
        return self.http.get(path, params=params)

    def all(self, kind: str, **params: Any) -> list[dict[str, Any]]:
        out: list[dict[str, Any]] = []
        after: str | None = None
        while True:
            extra = {"after": after} if after else {}
            body = self.get(f"/crm/v3/objects/{kind}", limit=100, **params, **extra).json()
            out.extend(body["results"])
            after = body.get("paging", {}).get("next", {}).get("after")
            if not after:
                return out


@pytest.fixture(scope="module")
def portal() -> Iterator[Portal]:
    world = World.build(seed=7)
    running = server.start(world, ["hubspot"])
    portal = Portal(world, running.urls["hubspot"])
    try:
        yield portal
    finally:
        portal.http.close()
        running.stop()


@pytest.fixture(scope="module")
def deals(portal: Portal) -> list[dict[str, Any]]:
    wanted = "amount,closedate,dealstage,hs_is_closed,renewal_date,hs_projected_amount"
    return portal.all("deals", properties=wanted) + portal.all(
        "deals", properties=wanted, archived="true"
    )


def test_deals_come_without_amount_null_or_cleared(deals: list[dict[str, Any]]) -> None:
    amounts = [d["properties"]["amount"] for d in deals]
    assert None in amounts  # never set
    assert "" in amounts  # set, then cleared
    for deal in deals:
        if not deal["properties"]["amount"]:
            assert deal["properties"]["hs_projected_amount"] == "0"


def test_open_deals_can_have_no_close_date_closed_ones_always_do(
    deals: list[dict[str, Any]],
) -> None:
    open_without = [
        d
        for d in deals
        if d["properties"]["hs_is_closed"] == "false" and d["properties"]["closedate"] is None
    ]
    assert open_without
    for deal in deals:
        if deal["properties"]["hs_is_closed"] == "true":
            assert deal["properties"]["closedate"]


def test_date_properties_are_epoch_millisecond_strings(deals: list[dict[str, Any]]) -> None:
    renewals = [d["properties"]["renewal_date"] for d in deals if d["properties"]["renewal_date"]]
    assert renewals
    for value in renewals:
        assert value.isdigit()
        assert len(value) == 13
        day = datetime.fromtimestamp(int(value) / 1000, UTC)
        assert (day.hour, day.minute, day.second, day.microsecond) == (0, 0, 0, 0)


def test_datetimes_come_with_and_without_milliseconds(
    portal: Portal, deals: list[dict[str, Any]]
) -> None:
    contacts = portal.all("contacts")
    stamps = [d[k] for d in deals + contacts for k in ("createdAt", "updatedAt")]
    stamps += [d["properties"]["closedate"] for d in deals if d["properties"]["closedate"]]
    with_ms = [s for s in stamps if WITH_MS.fullmatch(s)]
    whole = [s for s in stamps if WHOLE_SECOND.fullmatch(s)]
    assert with_ms
    assert whole
    assert len(with_ms) + len(whole) == len(stamps)  # nothing else
    assert len(whole) < len(with_ms)


def test_date_filters_accept_epoch_milliseconds_on_date_properties(portal: Portal) -> None:
    body = {
        "filterGroups": [
            {"filters": [{"propertyName": "renewal_date", "operator": "HAS_PROPERTY"}]}
        ],
        "sorts": [{"propertyName": "renewal_date", "direction": "ASCENDING"}],
        "properties": ["renewal_date"],
        "limit": 200,
    }
    answer = portal.http.post("/crm/v3/objects/deals/search", json=body)
    assert answer.status_code == 200, answer.text
    values = [int(d["properties"]["renewal_date"]) for d in answer.json()["results"]]
    assert values
    assert values == sorted(values)


def test_429_bodies_vary_as_hubspots_do(portal: Portal) -> None:
    portal.world.faults.inject("hubspot", AURORA, "throttle", times=9)
    bodies = []
    for _ in range(9):
        answer = portal.get("/crm/v3/objects/deals")
        assert answer.status_code == 429
        assert answer.headers["Retry-After"] == "1"
        bodies.append(answer.json())
    for body in bodies:
        assert body["status"] == "error"
        assert body["errorType"] == "RATE_LIMIT"
        assert body["policyName"] == "TEN_SECONDLY_ROLLING"
        assert body["message"] == "You have reached your ten_secondly_rolling limit."
        assert re.fullmatch(r"[0-9a-f]{32}", body["requestId"])
        assert body["correlationId"]
    assert any("groupName" in b for b in bodies)
    assert any("groupName" not in b for b in bodies)
    assert any("category" not in b for b in bodies)  # never classify a 429 by category
    assert portal.get("/crm/v3/objects/deals").status_code == 200


@pytest.mark.parametrize(
    ("shape", "group", "category"),
    [("grouped", True, False), ("plain", False, False), ("categorised", True, True)],
)
def test_a_throttle_fault_can_pin_the_429_shape(
    portal: Portal, shape: str, group: bool, category: bool
) -> None:
    portal.world.faults.inject("hubspot", AURORA, "throttle", shape=shape, policy="SECONDLY")
    body = portal.http.post("/crm/v3/objects/deals/search", json={}).json()
    assert body["policyName"] == "SECONDLY"
    assert ("groupName" in body) is group
    assert ("category" in body) is category
    if group:
        assert body["groupName"].endswith(f":{portal.shop.hubspot_portal_id}")


def test_deal_currency_is_unset_on_a_single_currency_portal_and_converted_on_a_multi_one(
    portal: Portal, deals: list[dict[str, Any]]
) -> None:
    """Single-currency portal (the shop's currency): `deal_currency_code` null on every deal,
    the company currency in the account details. Multi-currency (kiri-surf, AUD with USD): the
    code on every deal, some in USD with `amount_in_home_currency` converted at the rate."""
    single = portal.get("/account-info/v3/details").json()
    assert (single["companyCurrency"], single["additionalCurrencies"]) == ("USD", [])
    codes = portal.all("deals", properties="deal_currency_code,amount,amount_in_home_currency")
    assert {d["properties"]["deal_currency_code"] for d in codes} == {None}
    kiri = portal.world.shops["kiri-surf.myshopify.com"]
    headers = {"Authorization": f"Bearer {kiri.hubspot_token}"}
    multi = portal.http.get("/account-info/v3/details", headers=headers).json()
    assert (multi["companyCurrency"], multi["additionalCurrencies"]) == ("AUD", ["USD"])
    props = "deal_currency_code,amount,amount_in_home_currency"
    found: dict[str | None, int] = {}
    after: str | None = None
    while True:
        params = {"limit": 100, "properties": props, **({"after": after} if after else {})}
        body = portal.http.get("/crm/v3/objects/deals", params=params, headers=headers).json()
        for deal in body["results"]:
            p = deal["properties"]
            found[p["deal_currency_code"]] = found.get(p["deal_currency_code"], 0) + 1
            if p["deal_currency_code"] == "USD" and p["amount"]:
                assert Decimal(p["amount_in_home_currency"]) == (
                    Decimal(p["amount"]) * Decimal("1.52")
                ).quantize(Decimal("0.01"))
            elif p["amount"]:
                assert p["amount_in_home_currency"] == p["amount"]
        after = body.get("paging", {}).get("next", {}).get("after")
        if not after:
            break
    assert set(found) == {"AUD", "USD"}
    assert 0 < found["USD"] < found["AUD"]


def test_associations_batch_read_answers_207_for_inputs_without_any(portal: Portal) -> None:
    """v4 batch read: each input's associated ids as numbers; an input with none (here an id
    the portal never issued) is in `errors` and the whole answer is 207 Multi-Status."""
    deals = portal.get("/crm/v3/objects/deals", limit=20, associations="contacts").json()["results"]
    ids = [d["id"] for d in deals]
    body = {"inputs": [{"id": i} for i in [*ids, "20999999999"]]}
    r = portal.http.post("/crm/v4/associations/deals/contacts/batch/read", json=body)
    assert r.status_code == 207
    got = {
        x["from"]["id"]: sorted(str(t["toObjectId"]) for t in x["to"]) for x in r.json()["results"]
    }
    want = {
        d["id"]: sorted(a["id"] for a in d["associations"]["contacts"]["results"])
        for d in deals
        if d.get("associations", {}).get("contacts")
    }
    assert got == want
    assert "20999999999" in {e["context"]["fromObjectId"][0] for e in r.json()["errors"]}
    assert all(isinstance(t["toObjectId"], int) for x in r.json()["results"] for t in x["to"])
