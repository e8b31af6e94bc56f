"""shopifyqlQuery over loopback HTTP: the `sales` subset answers from the oracle, anything else
is a parse error, no `read_reports` scope is ACCESS_DENIED, and `report_drift` makes it disagree."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from decimal import Decimal
from typing import Any

import httpx
import pytest

from sandbox import server
from sandbox.faults import FaultKind
from sandbox.server import RunningSandbox
from sandbox.shopify import oracle, shapes, shopifyql
from sandbox.shopify.days import local_day
from sandbox.world import World

KIRI = "kiri-surf.myshopify.com"
QUERY = "query Q($q: String!) { shopifyqlQuery(query: $q) { parseErrors tableData { columns { name dataType displayName } rows } } }"  # noqa: E501
SHOW = "orders, gross_sales, discounts, returns, net_sales, shipping_charges, taxes, total_sales"


@pytest.fixture(scope="module")
def running() -> Iterator[RunningSandbox]:
    started = server.start(shapes.realistic_world(), platforms=["shopify"])
    yield started
    started.stop()


def _ask(running: RunningSandbox, text: str, shop_id: str = KIRI) -> dict[str, Any]:
    shop = running.world.shops[shop_id]
    url = f"{running.urls['shopify']}/shops/{shop.handle}/admin/api/2026-01/graphql.json"
    resp = httpx.post(url, json={"query": QUERY, "variables": {"q": text}},
                      headers={"X-Shopify-Access-Token": shop.shopify_token},
                      timeout=10)  # fmt: skip
    assert resp.status_code == 200
    body: dict[str, Any] = resp.json()
    return body


def _range(running: RunningSandbox) -> tuple[str, str]:
    shop = running.world.shops[KIRI]
    last = local_day(running.world.now(), shop.timezone)
    return (last.replace(day=1)).isoformat(), last.isoformat()


def test_daily_sales_equal_the_oracle(running: RunningSandbox) -> None:
    since, until = _range(running)
    body = _ask(running, f"FROM sales SHOW {SHOW} TIMESERIES day SINCE {since} UNTIL {until}")
    data = body["data"]["shopifyqlQuery"]
    assert data["parseErrors"] == []
    columns = data["tableData"]["columns"]
    assert columns[0] == {"name": "day", "dataType": "DAY_TIMESTAMP", "displayName": "Day"}
    assert [c["name"] for c in columns[1:]] == [m.strip() for m in SHOW.split(",")]
    shop = running.world.shops[KIRI]
    expected = oracle.daily(running.world, shop, date.fromisoformat(since),
                            date.fromisoformat(until))  # fmt: skip
    rows = data["tableData"]["rows"]
    assert [r["day"] for r in rows] == [e["date"] for e in expected]  # every day, zeros too
    for row, want in zip(rows, expected, strict=True):
        assert row["orders"] == str(want["orders"])
        assert Decimal(row["total_sales"]) == Decimal(want["total_sales"])
        assert Decimal(row["shipping_charges"]) == Decimal(want["shipping"])
        assert Decimal(row["returns"]) == -Decimal(want["returns"])  # shown negative
        assert all(isinstance(v, str) for v in row.values())


def test_anything_else_is_a_parse_error(running: RunningSandbox) -> None:
    for text in ("FROM sales SHOW total_sale TIMESERIES day SINCE -3d UNTIL today",
                 "FROM orders SHOW total_sales TIMESERIES day SINCE -3d UNTIL today",
                 "SHOW total_sales"):  # fmt: skip
        data = _ask(running, text)["data"]["shopifyqlQuery"]
        assert data["tableData"] is None
        assert len(data["parseErrors"]) == 1
    data = _ask(running, "FROM sales SHOW total_sale TIMESERIES day SINCE -3d UNTIL today")
    assert data["data"]["shopifyqlQuery"]["parseErrors"] == [
        "Column Not Found: Column 'total_sale' not found"
    ]


def test_report_drift_fault_makes_it_disagree(running: RunningSandbox) -> None:
    since, until = _range(running)
    text = f"FROM sales SHOW total_sales TIMESERIES day SINCE {since} UNTIL {until}"
    honest = _ask(running, text)["data"]["shopifyqlQuery"]["tableData"]["rows"]
    running.world.faults.inject("shopify", KIRI, FaultKind.REPORT_DRIFT, amount="2.50", day=until)
    drifted = _ask(running, text)["data"]["shopifyqlQuery"]["tableData"]["rows"]
    assert Decimal(drifted[-1]["total_sales"]) - Decimal(honest[-1]["total_sales"]) == Decimal(
        "2.50")  # fmt: skip
    assert drifted[:-1] == honest[:-1]


def test_without_read_reports_access_is_denied() -> None:
    world = World.build()
    shopifyql.revoke_reports_scope(world, KIRI)
    started = server.start(world, platforms=["shopify"])
    try:
        body = _ask(started, "FROM sales SHOW total_sales TIMESERIES day SINCE -3d UNTIL today")
    finally:
        started.stop()
    assert body["data"] == {"shopifyqlQuery": None}
    (error,) = body["errors"]
    assert error["extensions"]["code"] == "ACCESS_DENIED"
    assert error["message"] == (
        "Access denied for shopifyqlQuery field. Required access: `read_reports` access scope."
    )
