"""Bulk operations over real HTTP: submit, poll, download, parse; limits, failures, determinism."""

from __future__ import annotations

import json
import os
import threading
import time
from typing import Any

import httpx
import psutil
import pytest

from sandbox.server import RunningSandbox
from sandbox.shopify import bulk as sandbox_bulk
from tests.fixtures.sandbox import FreshSandbox
from tests.sandbox.test_shopify_protocol import SHOP, generate, post, query_file

RUN = """mutation Run($query: String!, $group: Boolean!) {
  bulkOperationRunQuery(query: $query, groupObjects: $group) {
    bulkOperation { id status } userErrors { code field message } } }"""


def submit(running: RunningSandbox, text: str, group: bool = False) -> dict[str, Any]:
    answer = post(running, SHOP, RUN, {"query": text, "group": group}).json()
    result: dict[str, Any] = answer["data"]["bulkOperationRunQuery"]
    return result


def wait(running: RunningSandbox, op_id: str, timeout: float = 120) -> dict[str, Any]:
    poll, deadline, seen = query_file("bulk_operation.graphql"), time.monotonic() + timeout, []
    while True:
        op: dict[str, Any] = post(running, SHOP, poll, {"id": op_id}).json()["data"][
            "bulkOperation"
        ]
        seen.append(op["status"])
        if op["status"] in ("COMPLETED", "FAILED", "CANCELED"):
            return {**op, "seen": seen}
        assert time.monotonic() < deadline, f"bulk operation stuck in {op['status']}"
        time.sleep(0.1)


def orders_query(filter_: str = "") -> str:
    return query_file("bulk_orders.graphql").replace("__FILTER__", filter_)


def test_full_bulk_run_streams_orders_and_children(fresh_sandbox: FreshSandbox) -> None:
    running = fresh_sandbox(platforms=["shopify"])
    created = submit(running, orders_query())
    assert created["userErrors"] == []
    assert created["bulkOperation"]["status"] == "CREATED"
    op = wait(running, created["bulkOperation"]["id"])
    assert op["status"] == "COMPLETED"
    assert "RUNNING" in op["seen"]
    body = httpx.get(op["url"]).content
    assert int(op["fileSize"]) == len(body)
    records = [json.loads(line) for line in body.splitlines()]
    assert int(op["objectCount"]) == len(records)
    orders = {r["id"]: r for r in records if r["__typename"] == "Order"}
    assert int(op["rootObjectCount"]) == len(orders)
    world = running.world
    expected = {
        f"gid://shopify/Order/{o.id}" for o in generate.iter_orders(world, world.shops[SHOP])
    }
    assert set(orders) == expected
    children = [r for r in records if "__parentId" in r]
    assert {c["__typename"] for c in children} == {"LineItem", "ShippingLine"}
    assert all(c["__parentId"] in orders for c in children)
    assert all("lineItems" not in o and isinstance(o["refunds"], list) for o in orders.values())
    position = {r["id"]: n for n, r in enumerate(records)}
    early = [c for c in children if position[c["id"]] < position[c["__parentId"]]]
    assert early, "groupObjects=false must not promise parents first"


def test_grouped_output_keeps_children_under_their_parent(fresh_sandbox: FreshSandbox) -> None:
    running = fresh_sandbox(platforms=["shopify"])
    op_id = submit(running, orders_query(), group=True)["bulkOperation"]["id"]
    op = wait(running, op_id)
    records = [json.loads(line) for line in httpx.get(op["url"]).content.splitlines()]
    parent = None
    for record in records:
        if "__parentId" in record:
            assert record["__parentId"] == parent
        else:
            parent = record["id"]


def test_bulk_query_rules_are_shopify_s(fresh_sandbox: FreshSandbox) -> None:
    running = fresh_sandbox(platforms=["shopify"])
    in_list = (
        "{ orders { edges { node { id refunds { id refundLineItems { edges { node { id } }"
        " } } } } } }"
    )
    errors = submit(running, in_list)["userErrors"]
    assert errors == [
        {
            "code": "INVALID",
            "field": ["query"],
            "message": (
                "Queries that contain a connection field within a list field are not currently "
                "supported."
            ),
        }
    ]
    top_node = submit(running, '{ node(id: "gid://shopify/Order/1") { id } }')["userErrors"]
    assert "top level `node`" in top_node[0]["message"]
    assert submit(running, "")["userErrors"][0]["code"] == "INVALID"
    assert (
        "nope"
        in submit(running, "{ orders { edges { node { nope } } } }")["userErrors"][0]["message"]
    )


def test_at_most_five_concurrent_operations_per_shop(
    fresh_sandbox: FreshSandbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Operations stay RUNNING for at least MIN_SECONDS; on a loaded machine six submissions
    # can take longer than the default second, so hold them open longer here.
    monkeypatch.setattr(sandbox_bulk, "MIN_SECONDS", 4.0)
    running = fresh_sandbox(platforms=["shopify"])
    text = "{ customers { edges { node { id } } } }"
    ids = [submit(running, text)["bulkOperation"]["id"] for _ in range(5)]
    sixth = submit(running, text)
    assert sixth["bulkOperation"] is None
    assert sixth["userErrors"][0]["code"] == "OPERATION_IN_PROGRESS"
    assert all(wait(running, i)["status"] == "COMPLETED" for i in ids)
    assert submit(running, text)["userErrors"] == []


def test_bulk_failed_fault_leaves_a_partial_prefix(fresh_sandbox: FreshSandbox) -> None:
    running = fresh_sandbox(platforms=["shopify"])
    complete = wait(running, submit(running, orders_query())["bulkOperation"]["id"])
    full = httpx.get(complete["url"]).content.splitlines(keepends=True)
    running.world.faults.inject("shopify", SHOP, "bulk_failed", after_lines=7, error_code="TIMEOUT")
    failed = wait(running, submit(running, orders_query())["bulkOperation"]["id"])
    assert failed["status"] == "FAILED"
    assert failed["errorCode"] == "TIMEOUT"
    assert failed["url"] is None
    partial = httpx.get(failed["partialDataUrl"]).content.splitlines(keepends=True)
    assert partial == full[:7]


def test_same_seed_gives_the_same_bulk_bytes(fresh_sandbox: FreshSandbox) -> None:
    files = []
    for _ in range(2):
        running = fresh_sandbox(platforms=["shopify"])
        op = wait(running, submit(running, orders_query())["bulkOperation"]["id"])
        files.append(httpx.get(op["url"]).content)
    assert files[0] == files[1]
    assert len(files[0]) > 10_000


def test_bench_shop_bulk_file_streams_with_flat_memory(fresh_sandbox: FreshSandbox) -> None:
    """A 100k-order shop: the server writes and serves the file without holding it in memory."""
    running = fresh_sandbox(platforms=["shopify"], size="bench")
    text = "{ orders { edges { node { id updatedAt lineItems { edges { node { id } } } } } } }"
    process = psutil.Process(os.getpid())
    peaks: list[int] = []
    done = threading.Event()

    def sample() -> None:
        while not done.is_set():
            peaks.append(process.memory_info().rss)
            time.sleep(0.05)

    sampler = threading.Thread(target=sample, daemon=True)
    op_id = submit(running, text)["bulkOperation"]["id"]
    baseline = process.memory_info().rss
    sampler.start()
    op = wait(running, op_id, timeout=240)
    lines = 0
    with httpx.stream("GET", op["url"], timeout=60) as response:
        for _ in response.iter_lines():
            lines += 1
    done.set()
    sampler.join()
    assert op["status"] == "COMPLETED"
    assert int(op["rootObjectCount"]) >= 100_000
    assert lines == int(op["objectCount"])
    assert max(peaks) - baseline < 150 * 1024 * 1024, "memory must not grow with the file"
