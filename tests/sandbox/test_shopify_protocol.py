"""The Shopify sandbox speaks the Admin API: auth, versions, paging, cost, throttling, faults.

Every test goes over real HTTP (httpx) to servers started on loopback; expectations come from
the data generator (`sandbox.shopify.generate`) directly, not from the HTTP layer under test.
"""

from __future__ import annotations

import json
import time
from datetime import timedelta
from decimal import Decimal
from typing import Any

import httpx
import pytest

from sandbox.server import RunningSandbox
from sandbox.shopify import generate
from storeline.platforms.shopify import documents
from tests.fixtures.sandbox import FreshSandbox

QUERIES = documents.QUERIES
VERSION = "2026-01"
SHOP = "aurora-goods.myshopify.com"


# --- HTTP helpers shared with test_shopify_bulk.py -------------------------------------------


def query_file(name: str) -> str:
    return (QUERIES / name).read_text()


def endpoint(running: RunningSandbox, shop_id: str, version: str = VERSION) -> str:
    handle = running.world.shops[shop_id].handle
    return f"{running.urls['shopify']}/shops/{handle}/admin/api/{version}/graphql.json"


def post(
    running: RunningSandbox,
    shop_id: str,
    query: str,
    variables: dict[str, Any] | None = None,
    *,
    token: str | None = None,
    version: str = VERSION,
) -> httpx.Response:
    shop = running.world.shops[shop_id]
    return httpx.post(
        endpoint(running, shop_id, version),
        json={"query": query, "variables": variables or {}},
        headers={"X-Shopify-Access-Token": shop.shopify_token if token is None else token},
        timeout=60,
    )


def post_patiently(
    running: RunningSandbox, shop_id: str, query: str, variables: dict[str, Any] | None = None
) -> dict[str, Any]:
    """What a well-behaved client does: on THROTTLED wait for the deficit to restore."""
    for _ in range(50):
        answer: dict[str, Any] = post(running, shop_id, query, variables).json()
        errors = answer.get("errors") or [{}]
        if errors[0].get("extensions", {}).get("code") != "THROTTLED":
            return answer
        cost = answer["extensions"]["cost"]
        deficit = cost["requestedQueryCost"] - cost["throttleStatus"]["currentlyAvailable"]
        time.sleep(max(deficit, 1) / cost["throttleStatus"]["restoreRate"])
    raise AssertionError("still throttled")


@pytest.fixture
def shopify(fresh_sandbox: FreshSandbox) -> RunningSandbox:
    return fresh_sandbox(platforms=["shopify"])


# --- auth and versions ------------------------------------------------------------------------

SMALL = "{ orders(first: 1) { edges { node { id } } } }"
INVALID_TOKEN = "[API] Invalid API key or access token (unrecognized login or wrong password)"


def test_missing_or_foreign_token_is_401_like_shopify(shopify: RunningSandbox) -> None:
    missing = post(shopify, SHOP, SMALL, token="")
    assert missing.status_code == 401
    assert missing.json() == {"errors": INVALID_TOKEN}
    other = shopify.world.shops["kiri-surf.myshopify.com"].shopify_token
    foreign = post(shopify, SHOP, SMALL, token=other)
    assert foreign.status_code == 401


def test_versions_fall_forward_or_404(shopify: RunningSandbox) -> None:
    ok = post(shopify, SHOP, SMALL)
    assert ok.status_code == 200
    assert ok.headers["x-shopify-api-version"] == VERSION
    old = post(shopify, SHOP, SMALL, version="2024-07")
    assert old.status_code == 200
    assert old.headers["x-shopify-api-version"] == VERSION
    assert post(shopify, SHOP, SMALL, version="2026-02").status_code == 404
    assert post(shopify, SHOP, SMALL, version="2099-01").status_code == 404
    unknown = httpx.post(
        f"{shopify.urls['shopify']}/shops/nope/admin/api/{VERSION}/graphql.json",
        json={"query": SMALL},
    )
    assert unknown.status_code == 404


def test_bad_body_and_unknown_field(shopify: RunningSandbox) -> None:
    shop = shopify.world.shops[SHOP]
    bad = httpx.post(
        endpoint(shopify, SHOP),
        content=b"{not json",
        headers={"X-Shopify-Access-Token": shop.shopify_token, "Content-Type": "application/json"},
    )
    assert bad.status_code == 400
    assert bad.json() == {"errors": {"query": "Required parameter missing or invalid"}}
    unknown = post(shopify, SHOP, "{ orders(first: 1) { edges { node { nope } } } }").json()
    assert "nope" in unknown["errors"][0]["message"]
    no_first = post(shopify, SHOP, "{ orders { edges { node { id } } } }").json()
    assert no_first["errors"][0]["message"] == "you must provide one of first or last"


# --- paging and the product's query files -----------------------------------------------------


def test_orders_page_query_walks_every_update_with_cursors(shopify: RunningSandbox) -> None:
    world, shop = shopify.world, shopify.world.shops[SHOP]
    since = world.now() - timedelta(days=4)
    expected = [o.id for o in generate.iter_orders(world, shop, updated_at_min=since)]
    assert expected, "the window must hold orders"
    text = documents.document("orders_page")  # as sent: the shell merged with the bulk Order
    seen: list[int] = []
    stamps: list[str] = []
    after = None
    while True:
        variables = {"first": 3, "after": after, "query": f"updated_at:>='{since.isoformat()}'"}
        answer = post_patiently(shopify, SHOP, text, variables)
        assert "errors" not in answer, answer
        assert answer["extensions"]["cost"]["requestedQueryCost"] <= 1000
        page = answer["data"]["orders"]
        for edge in page["edges"]:
            seen.append(int(edge["node"]["id"].rsplit("/", 1)[1]))
            stamps.append(edge["node"]["updatedAt"])
            assert edge["node"]["lineItems"]["edges"], "orders carry their lines"
        if not page["pageInfo"]["hasNextPage"]:
            break
        after = page["pageInfo"]["endCursor"]
    assert seen == expected
    assert stamps == sorted(stamps)


def test_money_ids_and_refund_details(shopify: RunningSandbox) -> None:
    world, shop = shopify.world, shopify.world.shops[SHOP]
    refunded = [o for o in generate.iter_orders(world, shop) if o.refunds][:3]
    assert refunded
    ids = [f"gid://shopify/Order/{o.id}" for o in refunded]
    answer = post(shopify, SHOP, query_file("refund_details.graphql"), {"ids": ids}).json()
    assert "errors" not in answer, answer
    nodes = answer["data"]["nodes"]
    assert [n["id"] for n in nodes] == ids
    for order, node in zip(refunded, nodes, strict=True):
        got = node["refunds"][0]["refundLineItems"]["edges"][0]["node"]
        want = order.refunds[0].refund_line_items[0]
        assert got["lineItem"]["id"] == f"gid://shopify/LineItem/{want.line_item_id}"
        assert Decimal(got["subtotalSet"]["shopMoney"]["amount"]) == want.subtotal
        assert got["subtotalSet"]["shopMoney"]["currencyCode"] == shop.currency


def test_deleted_orders_surface_as_destroy_events(shopify: RunningSandbox) -> None:
    world, shop = shopify.world, shopify.world.shops[SHOP]
    deleted = list(generate.iter_deletions(world, shop))
    assert deleted
    answer = post(
        shopify,
        SHOP,
        query_file("deleted_orders.graphql"),
        {"first": 50, "query": "subject_type:ORDER AND action:destroy"},
    ).json()
    assert "errors" not in answer, answer
    nodes = [e["node"] for e in answer["data"]["events"]["edges"]]
    assert {n["subjectId"] for n in nodes} == {f"gid://shopify/Order/{e.order_id}" for e in deleted}
    assert all(n["subjectType"] == "ORDER" and n["action"] == "destroy" for n in nodes)
    live = {o.id for o in generate.iter_orders(world, shop)}
    assert not live & {e.order_id for e in deleted}


# --- cost and throttling ----------------------------------------------------------------------


def test_cost_is_reported_and_oversized_queries_are_refused(shopify: RunningSandbox) -> None:
    answer = post(shopify, SHOP, "{ orders(first: 10) { edges { node { id name } } } }").json()
    cost = answer["extensions"]["cost"]
    assert cost["requestedQueryCost"] == 12
    assert cost["actualQueryCost"] <= 12
    status = cost["throttleStatus"]
    assert status["maximumAvailable"] == 2000.0
    assert status["restoreRate"] == 100.0
    assert 0 < status["currentlyAvailable"] <= 2000
    lines = "lineItems(first: 250) { edges { node { id } } }"
    huge = "{ orders(first: 250) { edges { node { " + lines + " } } } }"
    refused = post(shopify, SHOP, huge).json()
    assert refused["errors"][0]["extensions"]["code"] == "MAX_COST_EXCEEDED"
    assert "data" not in refused


def test_nodes_cost_is_per_id_and_the_plan_sets_the_rate(fresh_sandbox: FreshSandbox) -> None:
    plus = fresh_sandbox(platforms=["shopify"], size="bench")
    assert plus.world.shops[SHOP].plan == "plus"
    doc = "query($ids: [ID!]!) { nodes(ids: $ids) { ... on Order { id customer { id } } } }"
    ids = [f"gid://shopify/Order/{n}" for n in range(1, 9)]
    costs = []
    for batch in (ids[:2], ids):
        cost = post(plus, SHOP, doc, {"ids": batch}).json()["extensions"]["cost"]
        costs.append(cost["requestedQueryCost"])
    assert costs == [4, 16]  # (Order 1 + customer 1) per id: Shopify sizes nodes by its ids
    status = cost["throttleStatus"]
    assert (status["maximumAvailable"], status["restoreRate"]) == (20000.0, 1000.0)


def test_draining_the_bucket_throttles_until_it_restores(shopify: RunningSandbox) -> None:
    heavy = "{ orders(first: 250) { edges { node { id customer { id } } } } }"
    throttled = None
    for _ in range(40):
        answer = post(shopify, SHOP, heavy).json()
        if "errors" in answer:
            throttled = answer
            break
    assert throttled is not None, "2000 points must run out"
    assert throttled["errors"][0]["extensions"]["code"] == "THROTTLED"
    assert throttled["extensions"]["cost"]["actualQueryCost"] is None
    available = throttled["extensions"]["cost"]["throttleStatus"]["currentlyAvailable"]
    assert available < throttled["extensions"]["cost"]["requestedQueryCost"]
    time.sleep(0.3)
    assert "errors" not in post(shopify, SHOP, SMALL).json()


# --- faults -----------------------------------------------------------------------------------


def test_every_fault_kind_answers_like_shopify(shopify: RunningSandbox) -> None:
    faults = shopify.world.faults
    faults.inject("shopify", SHOP, "throttle")
    throttled = post(shopify, SHOP, SMALL)
    assert throttled.status_code == 200
    assert throttled.json()["errors"][0]["extensions"]["code"] == "THROTTLED"

    faults.inject("shopify", SHOP, "server_error", times=2)
    first, second = post(shopify, SHOP, SMALL), post(shopify, SHOP, SMALL)
    assert (first.status_code, second.status_code) == (503, 503)
    assert first.json() == {"errors": "Service Unavailable"}
    faults.inject("shopify", SHOP, "server_error", status=502)
    gateway = post(shopify, SHOP, SMALL)
    assert gateway.status_code == 502
    assert gateway.headers["content-type"].startswith("text/html")

    faults.inject("shopify", SHOP, "slow", seconds=1)
    started = time.monotonic()
    assert post(shopify, SHOP, SMALL).status_code == 200
    assert time.monotonic() - started >= 1

    faults.inject("shopify", SHOP, "expired_token")
    assert post(shopify, SHOP, SMALL).json() == {"errors": INVALID_TOKEN}
    faults.inject("shopify", SHOP, "revoked_token")
    revoked = post(shopify, SHOP, SMALL)
    assert revoked.status_code == 403
    assert "merchant approval" in revoked.json()["errors"]

    faults.inject("shopify", SHOP, "malformed")
    malformed = post(shopify, SHOP, SMALL)
    assert malformed.status_code == 200
    with pytest.raises(json.JSONDecodeError):
        json.loads(malformed.content)
    assert post(shopify, SHOP, SMALL).json()["data"]["orders"]["edges"], "faults are used up"


def test_the_clock_creates_orders(shopify: RunningSandbox) -> None:
    count = "{ orders(first: 250, sortKey: UPDATED_AT, reverse: true) { edges { node { id } } } }"
    before = {e["node"]["id"] for e in post(shopify, SHOP, count).json()["data"]["orders"]["edges"]}
    shopify.world.advance(timedelta(days=2))
    after = {e["node"]["id"] for e in post(shopify, SHOP, count).json()["data"]["orders"]["edges"]}
    assert after - before
