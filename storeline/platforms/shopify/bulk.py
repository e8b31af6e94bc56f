"""Bulk query operations that survive restarts: submit, persist the id, poll, stream the JSONL.

The operation id is saved in the job's progress *before* polling starts, so a worker that dies
(or loses its lease) hands the next attempt an id to re-poll instead of a new export to wait for.
The progress entry per export (`bulk_<key>`) is:
  {"op": gid | null, "search": str, "started_at": iso, "attempts": n, "lines": n, "done": bool,
   "last_op": the operation whose file completed the export}
`started_at` is the server's createdAt of the first operation of the export: every object
updated before it is in the result, so it is the export's safe watermark.

OPERATION_IN_PROGRESS (2026-01 allows five query operations per shop and app) first looks for a
running operation with the very same query (ours, submitted before a crash) and adopts it, else
waits for a slot and finally hands the job back as transient. FAILED with a `partialDataUrl` loads
the lines that arrived and resubmits only what they may not cover: `updated_at >=` the k-th newest
root seen (k = `partial_overlap_roots`), because with groupObjects false the children of the last
roots may not have been written yet. Rows seen twice are harmless: the transform keeps one per gid.
While a result file loads, every committed staging batch carries `file_op` / `file_lines` in the
export's progress (storeline/worker/kit/staging.py): a download that still fails after the client's
own resumes (Range / skip), or a database connection that drops, leaves the next attempt re-polling
the same completed operation and skipping exactly the lines that committed, so a broken file is
never loaded twice and never loaded short. A partial file (FAILED with partialDataUrl) is loaded
again whole after a break: the resume point it computes needs every line, and lines seen twice are
harmless.
"""

from __future__ import annotations

import asyncio
import heapq
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import orjson

from storeline.platforms.shopify.client import ShopifyClient
from storeline.platforms.shopify.documents import (
    RUNNING_BULK_OPERATIONS,
    bulk_query,
    document,
    parse_time,
    updated_since,
)
from storeline.platforms.shopify.settings import ShopifySettings
from storeline.worker.errors import CredentialError, TerminalError, TransientError
from storeline.worker.kit.staging import Checkpoint

Loader = Callable[[AsyncIterator[bytes], Checkpoint | None], Awaitable[int]]
SaveProgress = Callable[[str, dict[str, Any]], Awaitable[None]]
PENDING = ("CREATED", "RUNNING", "CANCELING")


@dataclass(frozen=True)
class ExportResult:
    lines: int
    started_at: datetime


class BulkExporter:
    """Runs bulk exports for one job. `load` copies lines into staging and returns their count;
    `save` persists one progress key; `check_cancelled` raises when the job must stop."""

    def __init__(
        self,
        client: ShopifyClient,
        settings: ShopifySettings,
        *,
        progress: Mapping[str, Any],
        save: SaveProgress,
        load: Loader,
        check_cancelled: Callable[[], None],
    ) -> None:
        self.client = client
        self.settings = settings
        self.progress = dict(progress)
        self._save = save
        self._load = load
        self._check_cancelled = check_cancelled
        self.submitted = 0  # operations this process submitted (tests assert resumes submit none)
        self.in_progress_answers = 0  # OPERATION_IN_PROGRESS answers seen

    async def export(self, key: str, name: str, search: str) -> ExportResult:
        """Export `queries/<name>.graphql` filtered by `search` into staging, resumably."""
        progress_key = f"bulk_{key}"
        state = await self.start(key, name, search)
        if state.get("done"):
            return ExportResult(int(state["lines"]), parse_time(state["started_at"]))
        while True:
            if state["op"] is None:
                state = await self._submit_into(progress_key, name, state)
            final = await self._poll(state["op"])
            status = final.get("status")
            if status == "COMPLETED":
                state["lines"] += await self._completed(progress_key, state, final)
                state.update(done=True, op=None, last_op=state["op"])
                await self._persist(progress_key, state)
                return ExportResult(int(state["lines"]), parse_time(state["started_at"]))
            if status == "FAILED" and final.get("errorCode") == "ACCESS_DENIED":
                raise CredentialError(
                    "Shopify denied the bulk export: the app lacks a required scope",
                    code="shopify_access_denied",
                )
            partial = final.get("partialDataUrl") if status == "FAILED" else None
            if partial:
                loaded, resume = await self._load_partial(str(partial))
                state["lines"] += loaded
                if resume is not None:
                    state["search"] = updated_since(resume)
            state["op"] = None
            if state["attempts"] >= self.settings.max_bulk_attempts:
                state["attempts"] = 0  # the engine's retry starts a fresh series from here
                await self._persist(progress_key, state)
                raise TransientError(
                    f"the Shopify bulk export ended {str(status).lower()} "
                    f"({final.get('errorCode') or 'no error code'}) too many times",
                    code="shopify_bulk_failed",
                )
            await self._persist(progress_key, state)

    def has_loaded(self, key: str) -> bool:
        """True when an earlier attempt already put lines of this export into staging (done, a
        failed operation's partial data, or a download that broke): those lines are not
        streamed again, so a caller watching the stream must read them back from staging."""
        state = self.progress.get(f"bulk_{key}") or {}
        return bool(state.get("done") or state.get("lines") or state.get("file_lines"))

    async def start(self, key: str, name: str, search: str) -> dict[str, Any]:
        """Submit the export's operation unless one is persisted (or the export is done), so
        several exports can run on Shopify's side while this job loads them one by one."""
        progress_key = f"bulk_{key}"
        state: dict[str, Any] = dict(self.progress.get(progress_key) or {})
        if state.get("done"):
            return state
        state.setdefault("search", search)
        state.setdefault("attempts", 0)
        state.setdefault("lines", 0)
        state.setdefault("op", None)
        if state["op"] is None:
            state = await self._submit_into(progress_key, name, state)
        return state

    async def _submit_into(self, key: str, name: str, state: dict[str, Any]) -> dict[str, Any]:
        op = await self._submit(bulk_query(name, state["search"]))
        state = {**state, "op": op["id"], "attempts": state["attempts"] + 1}
        state.setdefault("started_at", op["createdAt"])
        await self._persist(key, state)  # before any polling: a restart re-polls this id
        return state

    async def _persist(self, key: str, state: dict[str, Any]) -> None:
        self.progress[key] = dict(state)
        await self._save(key, dict(state))

    async def _completed(self, key: str, state: dict[str, Any], op: Mapping[str, Any]) -> int:
        """Load the result file. Every staged batch commits with `file_op` / `file_lines` (the
        file's lines it covers) in the export's progress, so a download or a connection that
        breaks hands the next attempt exactly the lines to skip. A file shorter than the
        operation's `objectCount` is never taken as complete: its lines are loaded again."""
        url = op.get("url")
        if url:
            op_id = op.get("id")
            done = int(state.get("file_lines") or 0) if state.get("file_op") == op_id else 0

            def checkpoint(consumed: int, finished: bool) -> dict[str, Any]:
                covered = {**state, "file_op": op_id, "file_lines": done + consumed}
                return {key: covered}

            lines = _after(self.client.download_lines(str(url)), done)
            loaded = await self._load(lines, checkpoint)
            state.pop("file_op", None)
            state.pop("file_lines", None)
            expected = int(op.get("objectCount") or 0)
            if done + loaded < expected:
                await self._persist(key, state)  # the next attempt loads the whole file again
                raise TransientError(
                    f"the bulk result file had {done + loaded} of {expected} objects",
                    code="shopify_bulk_file_short",
                )
            return done + loaded
        if int(op.get("objectCount") or 0) > 0:
            # A COMPLETED operation with objects but no file must not pass as "nothing changed".
            raise TransientError(
                "Shopify completed the bulk export without a result file",
                code="shopify_bulk_no_file",
            )
        return 0

    async def _submit(self, query: str) -> dict[str, Any]:
        deadline = time.monotonic() + self.settings.in_progress_wait_seconds
        while True:
            running = await self._running_with(query)
            if running is not None:
                return running
            result = await self.client.graphql(document("bulk_run_query"), {"query": query})
            payload = result.data.get("bulkOperationRunQuery") or {}
            errors = payload.get("userErrors") or []
            operation = payload.get("bulkOperation")
            if not errors and isinstance(operation, dict):
                self.submitted += 1
                return operation
            in_progress = any(
                e.get("code") == "OPERATION_IN_PROGRESS"
                or "already in progress" in str(e.get("message", ""))
                for e in errors
            )
            if not in_progress:
                message = str(errors[0].get("message", "")) if errors else "no operation returned"
                raise TerminalError(
                    f"Shopify refused the bulk query: {message[:300]}", code="shopify_bulk_invalid"
                )
            self.in_progress_answers += 1
            if time.monotonic() >= deadline:
                raise TransientError(
                    "Shopify is already running the maximum number of bulk exports for this shop",
                    code="shopify_bulk_in_progress",
                    retry_after=max(self.settings.in_progress_wait_seconds, 30.0),
                )
            self._check_cancelled()
            await asyncio.sleep(self.settings.poll_max_seconds)

    async def _running_with(self, query: str) -> dict[str, Any] | None:
        result = await self.client.graphql(RUNNING_BULK_OPERATIONS)
        edges = (result.data.get("bulkOperations") or {}).get("edges") or []
        for edge in edges:
            node = edge.get("node") or {}
            if node.get("query", "").strip() == query.strip():
                return dict(node)
        return None

    async def _poll(self, op_id: str) -> dict[str, Any]:
        interval = self.settings.poll_min_seconds
        deadline = time.monotonic() + self.settings.bulk_timeout_seconds
        while True:
            self._check_cancelled()
            result = await self.client.graphql(document("bulk_operation"), {"id": op_id})
            op = result.data.get("bulkOperation")
            if not isinstance(op, dict):
                return {"status": "MISSING"}  # unknown or purged id: export again
            if op.get("status") not in PENDING:
                return op
            if time.monotonic() > deadline:
                raise TransientError(
                    "the Shopify bulk export did not finish in time", code="shopify_bulk_timeout"
                )
            await asyncio.sleep(interval)
            interval = min(interval * 1.5, self.settings.poll_max_seconds)

    async def _load_partial(self, url: str) -> tuple[int, datetime | None]:
        """Load a failed operation's prefix; return (lines, where to resume or None for all)."""
        keep = self.settings.partial_overlap_roots
        newest: list[datetime] = []  # min-heap of the `keep` newest root updatedAt values

        async def inspected() -> AsyncIterator[bytes]:
            async for line in self.client.download_lines(url):
                if b'"__parentId"' not in line:
                    updated = _updated_at(line)
                    if updated is not None:
                        if len(newest) < keep:
                            heapq.heappush(newest, updated)
                        elif updated > newest[0]:
                            heapq.heapreplace(newest, updated)
                yield line

        loaded = await self._load(inspected(), None)
        return loaded, (newest[0] if len(newest) >= keep else None)


async def _after(lines: AsyncIterator[bytes], skip: int) -> AsyncIterator[bytes]:
    """`lines` without the first `skip` (already staged by an earlier attempt). The file behind a
    result URL never changes, so line k is line k."""
    index = 0
    async for line in lines:
        index += 1
        if index <= skip:
            continue
        yield line


def _updated_at(line: bytes) -> datetime | None:
    try:
        value = orjson.loads(line).get("updatedAt")
        return parse_time(value) if isinstance(value, str) else None
    except (orjson.JSONDecodeError, AttributeError, ValueError):
        return None
