"""BulkExporter against the sandbox's bulk operations over HTTP: persisted ids, resume, adoption,
OPERATION_IN_PROGRESS, FAILED with partial data, ACCESS_DENIED. The sink is a plain list (the
staging COPY is exercised by the connector tests)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import orjson
import pytest

from sandbox.server import RunningSandbox
from sandbox.world import ShopProfile
from storeline.platforms.shopify.bulk import BulkExporter
from storeline.platforms.shopify.client import ShopifyClient
from storeline.platforms.shopify.documents import bulk_query, document
from storeline.worker.errors import CredentialError, TransientError
from storeline.worker.kit.staging import Checkpoint
from tests.fixtures.sandbox import FreshSandbox
from tests.platforms.shopify.connector_support import sandbox_settings

LIST_OPS = """
query Ops { bulkOperations(first: 50) { edges { node { id status query } } } }
"""


class Sink:
    """Collects loaded lines and saved progress like staging and sync_jobs.progress would."""

    def __init__(self, progress: dict[str, Any] | None = None) -> None:
        self.lines: list[dict[str, Any]] = []
        self.progress: dict[str, Any] = dict(progress or {})
        self.saves: list[tuple[str, dict[str, Any]]] = []

    async def load(self, lines: AsyncIterator[bytes], checkpoint: Checkpoint | None) -> int:
        """One batch per line, committed with its checkpoint (as the kit's StagingWriter does)."""
        count = 0
        async for line in lines:
            self.lines.append(orjson.loads(line))
            count += 1
            if checkpoint is not None:
                self.progress.update(checkpoint(count, False))
        if checkpoint is not None:
            self.progress.update(checkpoint(count, True))
        return count

    async def save(self, key: str, state: dict[str, Any]) -> None:
        self.saves.append((key, dict(state)))
        self.progress[key] = dict(state)

    def exporter(self, client: ShopifyClient) -> BulkExporter:
        return BulkExporter(
            client,
            client.settings,
            progress=self.progress,
            save=self.save,
            load=self.load,
            check_cancelled=lambda: None,
        )


@pytest.fixture
def running(fresh_sandbox: FreshSandbox) -> RunningSandbox:
    return fresh_sandbox(platforms=["shopify"])


def first_shop(running: RunningSandbox) -> ShopProfile:
    return running.world.shops["kiri-surf.myshopify.com"]


def client_for(running: RunningSandbox, **settings: Any) -> ShopifyClient:
    shop = first_shop(running)
    return ShopifyClient(shop.shop_id, shop.shopify_token, sandbox_settings(running, **settings))


def by_type(lines: list[dict[str, Any]]) -> dict[str, set[str]]:
    found: dict[str, set[str]] = {}
    for line in lines:
        found.setdefault(line.get("__typename", "?"), set()).add(line["id"])
    return found


async def orders_ops(client: ShopifyClient) -> list[dict[str, Any]]:
    result = await client.graphql(LIST_OPS)
    nodes = [e["node"] for e in result.data["bulkOperations"]["edges"]]
    return [n for n in nodes if "orders(" in n["query"]]


async def test_export_persists_the_id_before_polling_and_loads_every_line(
    running: RunningSandbox,
) -> None:
    sink = Sink()
    async with client_for(running) as client:
        result = await sink.exporter(client).export("orders", "bulk_orders", "")
    first_key, first_state = sink.saves[0]
    assert first_key == "bulk_orders"
    assert first_state["op"].startswith("gid://shopify/BulkOperation/")
    assert not first_state.get("done")
    assert sink.progress["bulk_orders"]["done"] is True
    assert sink.progress["bulk_orders"]["last_op"] == first_state["op"]
    assert result.lines == len(sink.lines) > 0
    kinds = by_type(sink.lines)
    orders = kinds["Order"]
    assert kinds["LineItem"]
    # groupObjects false: children may precede their parent, yet every child has its parent.
    parents = {line["__parentId"] for line in sink.lines if "__parentId" in line}
    assert parents <= orders
    position = {line["id"]: i for i, line in enumerate(sink.lines) if "__parentId" not in line}
    early = [i for i, line in enumerate(sink.lines) if i < position.get(line.get("__parentId"), -1)]
    assert early  # the sandbox really does put some children before their parent


async def test_a_restarted_export_repolls_the_persisted_operation(running: RunningSandbox) -> None:
    first = Sink()
    async with client_for(running) as client:
        task = asyncio.create_task(first.exporter(client).export("orders", "bulk_orders", ""))
        while not first.saves:  # noqa: ASYNC110 (polls a plain list the exporter appends to)
            await asyncio.sleep(0.01)
        task.cancel()  # the worker dies while the operation runs
        with pytest.raises(asyncio.CancelledError):
            await task
        persisted = first.progress["bulk_orders"]["op"]

        second = Sink(first.progress)
        exporter = second.exporter(client)
        result = await exporter.export("orders", "bulk_orders", "")
        assert exporter.submitted == 0
        assert second.progress["bulk_orders"]["last_op"] == persisted
        assert result.lines == len(second.lines) > 0
        assert len(await orders_ops(client)) == 1

        # A finished export is not even polled again.
        third = Sink(second.progress)
        requests = client.requests
        again = await third.exporter(client).export("orders", "bulk_orders", "")
        assert again.lines == result.lines
        assert third.lines == []
        assert client.requests == requests


async def test_an_operation_submitted_before_a_crash_is_adopted(running: RunningSandbox) -> None:
    async with client_for(running) as client:
        query = bulk_query("bulk_orders", "")
        await client.graphql(document("bulk_run_query"), {"query": query})  # id never persisted
        sink = Sink()
        exporter = sink.exporter(client)
        await exporter.export("orders", "bulk_orders", "")
        assert exporter.submitted == 0
        assert len(await orders_ops(client)) == 1
        assert by_type(sink.lines)["Order"]


async def test_operation_in_progress_waits_for_a_slot(running: RunningSandbox) -> None:
    # The occupying exports last 3 s whatever the machine's load (the default 1 s minimum could
    # end before the orders export is submitted on a busy machine).
    running.world.faults.inject(
        "shopify", first_shop(running).shop_id, "slow_bulk", times=5, seconds=3
    )
    async with client_for(running, in_progress_wait_seconds=30) as client:
        for day in range(1, 6):  # five other exports occupy every slot
            query = bulk_query("bulk_customers", f"updated_at:>='2026-0{day}-01T00:00:00Z'")
            answer = await client.graphql(document("bulk_run_query"), {"query": query})
            assert answer.data["bulkOperationRunQuery"]["userErrors"] == []
        sink = Sink()
        exporter = sink.exporter(client)
        await exporter.export("orders", "bulk_orders", "")
        assert exporter.in_progress_answers >= 1
        assert exporter.submitted == 1
        assert sink.progress["bulk_orders"]["done"] is True


async def test_operation_in_progress_beyond_the_wait_is_transient(running: RunningSandbox) -> None:
    running.world.faults.inject(
        "shopify", first_shop(running).shop_id, "slow_bulk", times=5, seconds=3
    )
    async with client_for(running, in_progress_wait_seconds=0) as client:
        for day in range(1, 6):
            query = bulk_query("bulk_customers", f"updated_at:>='2026-0{day}-01T00:00:00Z'")
            await client.graphql(document("bulk_run_query"), {"query": query})
        sink = Sink()
        with pytest.raises(TransientError) as caught:
            await sink.exporter(client).export("orders", "bulk_orders", "")
    assert caught.value.code == "shopify_bulk_in_progress"
    assert caught.value.retry_after
    assert sink.saves == []


async def test_a_failed_operation_loads_its_partial_data_and_fetches_the_rest(
    running: RunningSandbox,
) -> None:
    shop = first_shop(running)
    async with client_for(running) as client:
        clean = Sink()
        await clean.exporter(client).export("orders", "bulk_orders", "")
        expected = by_type(clean.lines)

        running.world.faults.inject("shopify", shop.shop_id, "bulk_failed", after_lines=400)
        sink = Sink()
        async with client_for(running, partial_overlap_roots=5) as narrow:
            exporter = sink.exporter(narrow)
            result = await exporter.export("orders", "bulk_orders", "")
    state = sink.progress["bulk_orders"]
    assert exporter.submitted == 2
    assert "updated_at:>=" in state["search"]  # only the rest was exported again
    assert result.lines == len(sink.lines)
    assert len(sink.lines) < 2 * len(clean.lines)
    assert by_type(sink.lines) == expected  # nothing lost: every order and every child


async def test_access_denied_on_a_bulk_operation_is_a_credential_error(
    running: RunningSandbox,
) -> None:
    shop = first_shop(running)
    running.world.faults.inject(
        "shopify", shop.shop_id, "bulk_failed", after_lines=0, error_code="ACCESS_DENIED"
    )
    async with client_for(running) as client:
        with pytest.raises(CredentialError) as caught:
            await Sink().exporter(client).export("orders", "bulk_orders", "")
    assert caught.value.code == "shopify_access_denied"


async def test_an_operation_that_keeps_failing_is_transient(running: RunningSandbox) -> None:
    shop = first_shop(running)
    running.world.faults.inject("shopify", shop.shop_id, "bulk_failed", times=None, after_lines=0)
    sink = Sink()
    async with client_for(running, max_bulk_attempts=2) as client:
        with pytest.raises(TransientError) as caught:
            await sink.exporter(client).export("orders", "bulk_orders", "")
    assert caught.value.code == "shopify_bulk_failed"
    assert sink.progress["bulk_orders"]["op"] is None  # the next attempt starts a new operation
