"""Refund details for a backfill, fetched while its orders export runs and loads.

Refund details are the slow part of a backfill: bound by the shop's API rate (about 20 cost
points per refunded order), not by bytes. So they are asked for from the moment the export is
submitted, with `refund_concurrency` requests in flight, and their answers wait in a spool file
until the orders COPY is done; the orders file then decides what is kept (see RefundPrefetch).
"""

from __future__ import annotations

import asyncio
import contextlib
import re
import tempfile
from collections.abc import AsyncIterator, Callable, Mapping
from types import TracebackType

import orjson

from storeline.platforms.shopify.client import ShopifyClient
from storeline.platforms.shopify.documents import document
from storeline.platforms.shopify.refunds import refund_detail_records
from storeline.platforms.shopify.settings import ShopifySettings

_SPOOL_MEMORY = 4 << 20  # answers beyond this go to a temp file: memory stays flat
_HAS_REFUNDS = re.compile(rb'"refunds"\s*:\s*\[\s*\{')  # a non-empty refunds list, any spacing
_REFUNDED_SEARCH = "financial_status:partially_refunded OR financial_status:refunded"


class RefundPrefetch:
    """Fetch refund details for a backfill while its orders export runs and loads.

    Use as `async with RefundPrefetch(...) as prefetch:`. `discover()` starts paging the ids of
    orders Shopify's search knows as refunded (refunded_orders.graphql) as soon as the export is
    submitted; `see(line)` is shown every line of the orders file as it loads and queues any
    order listing refunds that is not fetched yet; `lines()`, once the file is loaded, fetches
    what the file shows but the answers miss (a refund made between answer and export, a refund
    that moved no money) and yields the answers for the orders in the file only, so the loaded
    details describe the file's snapshot. Leaving the block cancels whatever is still in
    flight; a fetch error surfaces at the next `see` or in `lines()`. Orders already known
    from staging go in with `include()` instead, and all their answers are kept.
    """

    def __init__(
        self,
        client: ShopifyClient,
        settings: ShopifySettings,
        check_cancelled: Callable[[], None],
    ) -> None:
        self._client = client
        self._settings = settings
        self._check_cancelled = check_cancelled
        self._queue: asyncio.Queue[list[str] | None] = asyncio.Queue()
        self._pending: list[str] = []
        self._queued: set[str] = set()
        self._in_file: dict[str, frozenset[str]] = {}  # order → refund ids the file lists
        self._fetched: dict[str, set[str]] = {}  # order → refund ids the answers carried
        # Answers as "<order gid>\t<JSON line>": lines() keeps the file's orders without parsing.
        self._spool = tempfile.SpooledTemporaryFile(max_size=_SPOOL_MEMORY)  # noqa: SIM115
        self._tasks: list[asyncio.Task[None]] = []
        self._discovery: asyncio.Task[None] | None = None

    async def __aenter__(self) -> RefundPrefetch:
        self._tasks = [
            asyncio.create_task(self._fetch()) for _ in range(self._settings.refund_concurrency)
        ]
        return self

    async def __aexit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        tasks = [*self._tasks, *([self._discovery] if self._discovery else [])]
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        self._spool.close()

    @property
    def orders(self) -> int:
        """Orders whose answers are kept: those the file lists refunds for, or included."""
        return len(self._in_file)

    def discover(self) -> None:
        self._discovery = asyncio.create_task(self._discover())

    def include(self, order_id: str) -> None:
        """Queue an order known from elsewhere (staging) to have refunds; its answers are kept."""
        self._raise_failure()
        self._in_file.setdefault(order_id, frozenset())
        self._add(order_id)

    def see(self, line: bytes) -> None:
        """Note an Order line's refunds and queue the order if it is not fetched yet."""
        self._raise_failure()
        if _HAS_REFUNDS.search(line) is None:
            return
        order = orjson.loads(line)
        order_id = order.get("id") if isinstance(order, dict) else None
        refunds = order.get("refunds") if isinstance(order, dict) else None
        if not isinstance(order_id, str) or not isinstance(refunds, list) or not refunds:
            return
        self._in_file[order_id] = frozenset(
            str(r.get("id")) for r in refunds if isinstance(r, Mapping)
        )
        self._add(order_id)

    async def lines(self) -> AsyncIterator[bytes]:
        """The answers for the orders in the file, once every one of them is answered."""
        if self._discovery is not None:
            await self._discovery
        await self._drain()
        missing = [o for o, refunds in self._in_file.items() if not refunds <= self._fetched_for(o)]
        if missing:  # answered before a refund the file shows, or not found by the search
            self._tasks = [asyncio.create_task(self._fetch())]
            self._queued.difference_update(missing)
            for order_id in missing:
                self._add(order_id)
            await self._drain()
        self._spool.seek(0)
        for entry in self._spool:
            owner, line = entry.split(b"\t", 1)
            if owner.decode() in self._in_file:
                yield line

    def _fetched_for(self, order_id: str) -> set[str]:
        return self._fetched.get(order_id) or set()

    def _add(self, order_id: str) -> None:
        if order_id in self._queued:
            return
        self._queued.add(order_id)
        self._pending.append(order_id)
        if len(self._pending) >= self._settings.refund_batch:
            self._queue.put_nowait(self._pending)
            self._pending = []

    async def _drain(self) -> None:
        """Send the last partial batch, end every fetch task and wait for them."""
        if self._pending:
            self._queue.put_nowait(self._pending)
            self._pending = []
        for _ in self._tasks:
            self._queue.put_nowait(None)
        await asyncio.gather(*self._tasks)

    def _raise_failure(self) -> None:
        tasks = [*self._tasks, *([self._discovery] if self._discovery else [])]
        for task in tasks:
            if task.done() and not task.cancelled() and task.exception() is not None:
                raise task.exception()  # type: ignore[misc]

    async def _discover(self) -> None:
        after: str | None = None
        while True:
            self._check_cancelled()
            variables = {"after": after, "query": _REFUNDED_SEARCH}
            result = await self._client.graphql(document("refunded_orders"), variables)
            orders = result.data.get("orders") or {}
            for node in orders.get("nodes") or []:
                if isinstance(node, Mapping) and isinstance(node.get("id"), str):
                    self._add(node["id"])
            info = orders.get("pageInfo") or {}
            if not info.get("hasNextPage") or not info.get("endCursor"):
                return
            after = str(info["endCursor"])

    async def _fetch(self) -> None:
        async for order_id, record in refund_detail_records(
            self._client, self._settings, self._batches(), self._check_cancelled
        ):
            if record.get("__typename") == "Refund":
                self._fetched.setdefault(order_id, set()).add(str(record.get("id")))
            self._spool.write(order_id.encode() + b"\t" + orjson.dumps(record) + b"\n")

    async def _batches(self) -> AsyncIterator[list[str]]:
        while (batch := await self._queue.get()) is not None:
            yield batch
