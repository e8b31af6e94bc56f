"""Bulk query operations: CREATED -> RUNNING -> COMPLETED | FAILED | CANCELED, JSONL on disk.

Each operation runs in its own thread and streams its file line by line (one root object's
view at a time), so memory stays flat for 100k+ orders. With groupObjects false (the 2026-01
default) children are deliberately NOT kept under their parent: a deterministic share of roots
has its children written before the root line, another share after the NEXT root, so a client
that assumes order breaks here rather than in production. At most five query operations run per
shop; the sixth gets OPERATION_IN_PROGRESS. A `bulk_failed` fault makes the next operation stop
after `params["after_lines"]` lines (default 25) with `errorCode` (default
INTERNAL_SERVER_ERROR) and a `partialDataUrl` holding that prefix.
Sources: https://shopify.dev/docs/api/usage/bulk-operations/queries ,
https://shopify.dev/changelog/bulk-operations-group-objects-default-changed-to-false
"""

from __future__ import annotations

import itertools
import secrets
import tempfile
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, BinaryIO

import orjson

from sandbox.faults import Fault, FaultKind
from sandbox.shopify import resolvers
from sandbox.shopify.encoding import gid, parse_gid, timestamp
from sandbox.shopify.jsonl import Checked, Projector, check
from sandbox.shopify.views import View, customer_view, event_view, order_view
from sandbox.world import ShopProfile, World

MAX_CONCURRENT = 5
MIN_SECONDS = 1.0  # real operations take seconds; this keeps RUNNING observable in tests
RUNNING = ("CREATED", "RUNNING")


@dataclass
class Operation:
    id: int
    shop_id: str
    query: str
    group_objects: bool
    created_at: datetime
    status: str = "CREATED"
    error_code: str | None = None
    completed_at: datetime | None = None
    object_count: int = 0
    root_object_count: int = 0
    file_size: int | None = None
    file_name: str | None = None
    partial_name: str | None = None
    cancel_requested: bool = False


class BulkOperations:
    """Every bulk operation of one app (all shops), with its files in a private temp dir."""

    def __init__(self, world: World) -> None:
        self.world = world
        self._dir = tempfile.TemporaryDirectory(prefix="sandbox-shopify-bulk-")
        self.directory = Path(self._dir.name)
        self._ops: dict[int, Operation] = {}
        self._ids = itertools.count(4_100_000_001)
        self._lock = threading.Lock()

    def file(self, name: str) -> Path | None:
        path = self.directory / name
        ok = path.parent == self.directory and path.suffix == ".jsonl" and path.is_file()
        return path if ok else None

    def shop_of(self, name: str) -> str | None:
        """The shop whose operation wrote the result file `name` (full or partial)."""
        with self._lock:
            for op in self._ops.values():
                if name in (op.file_name, op.partial_name):
                    return op.shop_id
        return None

    def submit(self, shop: ShopProfile, query: str, *, group_objects: bool, base_url: str) -> View:
        schema = resolvers.schema()
        checked, errors = check(schema, query)
        if checked is None:
            return _payload(None, [_user_error("INVALID", m) for m in errors])
        with self._lock:
            running = [
                o for o in self._ops.values() if o.shop_id == shop.shop_id and o.status in RUNNING
            ]
            if len(running) >= MAX_CONCURRENT:
                message = (
                    f"A bulk query operation for this app and shop is already in progress: "
                    f"{gid('BulkOperation', running[0].id)}. The limit is "
                    f"{MAX_CONCURRENT} concurrent bulk query operations per shop."
                )
                return _payload(None, [_user_error("OPERATION_IN_PROGRESS", message, field=None)])
            op = Operation(next(self._ids), shop.shop_id, query, group_objects, self.world.now())
            self._ops[op.id] = op
        fault = self.world.faults.take("shopify", shop.shop_id, FaultKind.BULK_FAILED)
        slow = self.world.faults.take("shopify", shop.shop_id, FaultKind.SLOW_BULK)
        least = float(slow.params.get("seconds", MIN_SECONDS)) if slow else MIN_SECONDS
        ctx = resolvers.Context(self.world, shop, self, base_url)
        thread = threading.Thread(
            target=self._run,
            args=(op, checked, ctx, fault, least),
            name=f"shopify-bulk-{op.id}",
            daemon=True,
        )
        created = self._view(op, base_url)  # rendered before the thread can move it on
        thread.start()
        return _payload(created, [])

    def cancel(self, shop: ShopProfile, op_gid: str, base_url: str) -> View:
        op = self._find(shop, op_gid)
        if op is None:
            return {
                "bulkOperation": None,
                "userErrors": [{"field": ["id"], "message": "Bulk operation does not exist"}],
            }
        with self._lock:
            if op.status not in RUNNING:
                message = f"A bulk operation cannot be canceled when it is {op.status.lower()}"
                return {
                    "bulkOperation": self._view(op, base_url),
                    "userErrors": [{"field": None, "message": message}],
                }
            op.cancel_requested = True
            op.status = "CANCELING"
        return {"bulkOperation": self._view(op, base_url), "userErrors": []}

    def view(self, shop: ShopProfile, op_id: int, base_url: str) -> View | None:
        op = self._ops.get(op_id)
        if op is None or op.shop_id != shop.shop_id:
            return None
        return self._view(op, base_url)

    def views(self, shop: ShopProfile, base_url: str, query: str | None) -> list[View]:
        """Newest first, filtered by `status:` / `operation_type:` terms like bulkOperations."""
        terms = dict(t.split(":", 1) for t in (query or "").split() if ":" in t)
        ops = sorted(
            (o for o in self._ops.values() if o.shop_id == shop.shop_id),
            key=lambda o: o.id,
            reverse=True,
        )
        status = terms.get("status", "").upper()
        if terms.get("operation_type", "query").lower() != "query":
            return []
        return [self._view(o, base_url) for o in ops if not status or o.status == status]

    def _find(self, shop: ShopProfile, op_gid: str) -> Operation | None:
        parsed = parse_gid(op_gid)
        if parsed is None or parsed[0] != "BulkOperation":
            return None
        op = self._ops.get(parsed[1])
        return op if op is not None and op.shop_id == shop.shop_id else None

    def _view(self, op: Operation, base_url: str) -> View:
        with self._lock:
            return {
                "__typename": "BulkOperation",
                "id": gid("BulkOperation", op.id),
                "status": op.status,
                "type": "QUERY",
                "errorCode": op.error_code,
                "createdAt": timestamp(op.created_at),
                "completedAt": timestamp(op.completed_at),
                "objectCount": str(op.object_count),
                "rootObjectCount": str(op.root_object_count),
                "fileSize": None if op.file_size is None else str(op.file_size),
                "url": f"{base_url}/bulk-files/{op.file_name}" if op.file_name else None,
                "partialDataUrl": (
                    f"{base_url}/bulk-files/{op.partial_name}" if op.partial_name else None
                ),
                "query": op.query,
            }

    def _run(
        self,
        op: Operation,
        checked: Checked,
        ctx: resolvers.Context,
        fault: Fault | None,
        least: float = MIN_SECONDS,
    ) -> None:
        started = time.monotonic()
        with self._lock:
            if op.status == "CREATED":
                op.status = "RUNNING"
        name = f"bulk-{op.id}-{secrets.token_hex(6)}.jsonl"
        path = self.directory / name
        limit = int(fault.params.get("after_lines", 25)) if fault else None
        outcome = "COMPLETED"
        with path.open("wb") as out:
            for line in self._lines(op, checked, ctx):
                if op.cancel_requested:
                    outcome = "CANCELED"
                    break
                if limit is not None and op.object_count >= limit:
                    outcome = "FAILED"
                    break
                out.write(line)
                with self._lock:
                    op.object_count += 1
        if limit is not None and outcome == "COMPLETED":
            outcome = "FAILED"  # the fault fires even when the result was shorter than the limit
        time.sleep(max(0.0, least - (time.monotonic() - started)))
        with self._lock:
            op.completed_at = self.world.now()
            op.status = outcome
            if outcome == "COMPLETED" and op.object_count:
                op.file_name, op.file_size = name, path.stat().st_size
            elif outcome == "FAILED":
                op.error_code = (
                    str(fault.params.get("error_code", "INTERNAL_SERVER_ERROR")) if fault else None
                )
                op.partial_name = name if op.object_count else None

    def _lines(self, op: Operation, checked: Checked, ctx: resolvers.Context) -> Iterator[bytes]:
        """JSONL lines in emission order; ungrouped output moves some children on purpose."""
        projector = Projector(resolvers.schema(), checked)
        deferred: list[bytes] = []
        for index, view in enumerate(_roots(checked, ctx)):
            root, children = projector.records(view)
            root_line = _dump(root)
            child_lines = [_dump(c) for c in children]
            with self._lock:
                op.root_object_count += 1
            if op.group_objects:
                yield root_line
                yield from child_lines
                continue
            mode = index % 3
            if mode == 1 and child_lines:  # children first, then their parent
                yield from child_lines
                yield root_line
            else:
                yield root_line
            yield from deferred
            deferred = child_lines if mode == 2 else []
            if mode == 0:
                yield from child_lines
        yield from deferred


def _roots(checked: Checked, ctx: resolvers.Context) -> Iterator[View]:
    args = {a.name.value: getattr(a.value, "value", None) for a in checked.root.arguments or ()}
    query = args.get("query")
    name = checked.root.name.value
    if name == "orders":
        return (order_view(o) for o in resolvers.iter_orders(ctx, query, name))
    if name == "customers":
        return (customer_view(c) for c in resolvers.iter_customers(ctx, query, name))
    if name == "events":
        return (event_view(e) for e in resolvers.iter_events(ctx, query, name))
    return iter(())


def _dump(record: dict[str, Any]) -> bytes:
    """One JSONL line as Shopify writes it: compact, slashes escaped (`gid:\\/\\/shopify\\/…`),
    `__parentId` last (the projector appends it last)."""
    return orjson.dumps(record).replace(b"/", b"\\/") + b"\n"


def _user_error(code: str, message: str, field: list[str] | None = None) -> View:
    return {
        "code": code,
        "field": ["query"] if field is None and code == "INVALID" else field,
        "message": message,
    }


def _payload(operation: View | None, errors: list[View]) -> View:
    return {"bulkOperation": operation, "userErrors": errors}


def stream(path: Path, chunk: int = 64 * 1024) -> Iterator[bytes]:
    handle: BinaryIO
    with path.open("rb") as handle:
        while block := handle.read(chunk):
            yield block
