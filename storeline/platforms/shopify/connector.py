"""The Shopify connector the engine runs: fetch → COPY into staging → one fenced transaction
{transform, deletions/prune, rollups} → the new watermark.

HISTORICAL_INIT / HISTORICAL_REBUILD export everything with bulk operations (orders, customers),
then fetch refund details, then prune what the export did not see. The refund details are bound
by the shop's API rate and end long after the exports land, so a backfill transforms the order
side (transform.ORDER_STEPS, customers) in a fenced transaction of its own while they are
fetched; the last transaction runs the refund side, the prune, deletions and the rollup of every
touched day. The days the first part moved away from are saved in the job's progress before it
commits, so a retry after a crash between the two still refreshes them; the cursor moves only
at the end. INCREMENTAL reads `updated_at >= watermark - overlap` page by page and lets a bulk
operation take over when the window is large; deleted orders come from the events feed. Every
watermark is a time on Shopify's clock (a bulk operation's createdAt, an updatedAt, an event's
createdAt), never the worker's. Fetch steps record their completion in the job's progress, so a
retried job skips finished exports and re-polls a running one. Shopify's own report is read
beside: a shop without order-level data gets its daily figures first (provisional.py), and after
the transform the touched days are reconciled with it (reconcile.py); neither can fail the sync.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import suppress
from datetime import date, datetime, timedelta
from typing import Any

import orjson

from storeline.core.enums import JobType, Platform
from storeline.platforms.shopify import load, provisional, reconcile, rollup, transform
from storeline.platforms.shopify.agreements import agreement_order_ids, agreement_records
from storeline.platforms.shopify.bulk import BulkExporter
from storeline.platforms.shopify.client import ShopifyClient
from storeline.platforms.shopify.deletions import Deletion, deleted_orders
from storeline.platforms.shopify.documents import iso, parse_time, updated_since
from storeline.platforms.shopify.pages import PageOutcome, order_page_lines
from storeline.platforms.shopify.refund_prefetch import RefundPrefetch
from storeline.platforms.shopify.refunds import refunded_order_ids
from storeline.platforms.shopify.settings import ShopifySettings, shopify_settings
from storeline.platforms.shopify.shop_profile import sync_shop_profile
from storeline.worker.errors import CredentialError
from storeline.worker.jobs.contract import JobContext
from storeline.worker.kit.phases import Phases
from storeline.worker.kit.staging import Checkpoint, StagingWriter


class ShopifyConnector:
    platform = Platform.SHOPIFY

    def __init__(self, settings: ShopifySettings | None = None) -> None:
        self._settings = settings
        self.last_run: ShopifySync | None = None  # the latest run's counters (tests, bench)

    async def run(self, ctx: JobContext) -> None:
        settings = self._settings or shopify_settings()
        token = ctx.secrets.get("access_token")
        if not isinstance(token, str) or not token:
            raise CredentialError("no Shopify access token is stored", code="shopify_no_token")
        async with ShopifyClient(ctx.shop.id, token, settings, on_progress=ctx.touch) as client:
            self.last_run = ShopifySync(ctx, client, settings)
            await self.last_run.run()


class ShopifySync:
    """One job's run; `exporter.submitted` and `client.requests` are there for tests and logs."""

    def __init__(self, ctx: JobContext, client: ShopifyClient, settings: ShopifySettings) -> None:
        self.ctx = ctx
        self.client = client
        self.settings = settings
        self.progress: dict[str, Any] = dict(ctx.job.progress or {})
        self.exporter = BulkExporter(
            client,
            settings,
            progress=self.progress,
            save=self._save,
            load=self._load,
            check_cancelled=ctx.check_cancelled,
        )
        self.writer = StagingWriter(ctx, load.TABLE, batch_bytes=settings.staging_batch_bytes)
        self.deletions: list[Deletion] = []
        self._watch: Callable[[bytes], None] | None = None  # sees every line loaded, if set
        self._phase = Phases(ctx)  # phase → seconds in .timings, for logs and bench/backfill.py
        self.timings = self._phase.timings
        self._order_days: set[date] = set()  # days the order-side pass read before writing

    async def run(self) -> None:
        historical = self.ctx.job.job_type != JobType.INCREMENTAL
        await sync_shop_profile(self.client, self.ctx)  # a new timezone restamps days first
        # A shop without order-level data shows Shopify's own daily figures while this runs.
        first = asyncio.create_task(self._first_figures())
        try:
            watermark = await (self._historical() if historical else self._incremental())
        except BaseException:
            first.cancel()
            with suppress(BaseException):
                await first
            raise
        await first
        # A backfill's order side is already in (_order_pass): only the refund side is left.
        steps = transform.REFUND_STEPS if historical else transform.STEPS
        async with self._phase("transform"), self.ctx.fenced() as conn:
            result = await transform.transform(
                conn,
                job_id=self.ctx.job.id,
                shop_id=self.ctx.shop.id,
                steps=steps,
                customers=not historical,
            )
            dates: set[date] = result.dates | self._order_days
            if historical:
                dates |= await transform.prune_unseen(
                    conn, shop_id=self.ctx.shop.id, job_id=self.ctx.job.id
                )
            for deleted_at, ids in _by_time(self.deletions):
                dates |= await transform.apply_deletions(
                    conn, shop_id=self.ctx.shop.id, order_ids=ids, deleted_at=deleted_at
                )
            await rollup.refresh_rollups(conn, shop_id=self.ctx.shop.id, dates=dates)
            orders_mark = watermark.get("orders_updated_at")
            await reconcile.mark_covered(
                conn, self.ctx.shop.id, parse_time(orders_mark) if orders_mark else None
            )
        async with self._phase("reconcile"):  # never fails the sync (reconcile.py)
            await reconcile.reconcile(self.client, self.ctx, self.settings, dates)
        self.ctx.set_cursor(watermark)

    async def _first_figures(self) -> None:
        async with self._phase("first_figures"):
            await provisional.first_figures(self.client, self.ctx, self.settings)

    async def _historical(self) -> dict[str, str]:
        # Both operations run on Shopify's side at once (2026-01 allows five per shop); staging
        # loads them one after the other (a job's line numbers are allocated per COPY).
        # Refund details (bound by the shop's API rate) are fetched while the exports run and
        # load, unless a previous attempt already loaded some orders lines: those would pass
        # unseen, so the orders with refunds are then read back from staging afterwards.
        await self.exporter.start("orders", "bulk_orders", "")
        await self.exporter.start("customers", "bulk_customers", "")
        staged = self.exporter.has_loaded("orders") or self._done("refunds")
        async with self._refund_fetcher() as fetch:
            if not staged:
                fetch.discover()
                self._watch = fetch.see
            try:
                async with self._phase("orders"):
                    orders = await self.exporter.export("orders", "bulk_orders", "")
            finally:
                self._watch = None
            async with self._phase("customers"):
                customers = await self.exporter.export("customers", "bulk_customers", "")

            async def details() -> None:
                async with self._phase("refunds"):
                    await self._refund_details(fetch, from_staging=staged)
                async with self._phase("agreements"):
                    await self._agreements()

            await _together(self._order_pass(), details())
        return {
            "orders_updated_at": iso(orders.started_at),
            "customers_updated_at": iso(customers.started_at),
            "events_created_at": iso(orders.started_at),
        }

    async def _order_pass(self) -> None:
        """Transform the order side (orders, their lines, shipping, transactions; customers) in a
        fenced transaction of its own. The days it may move away from (an order's old processing
        day on a rebuild) are saved first, together with those of an earlier attempt."""
        job_id, shop_id = self.ctx.job.id, self.ctx.shop.id
        saved = (self.progress.get("order_pass") or {}).get("before") or []
        async with self.ctx.connection() as conn:
            before = await transform.touched_dates(conn, job_id=job_id, shop_id=shop_id)
        self._order_days = before | {date.fromisoformat(d) for d in saved}
        await self._save("order_pass", {"before": sorted(d.isoformat() for d in self._order_days)})
        async with self._phase("transform_orders"), self.ctx.fenced() as conn:
            await transform.transform(
                conn, job_id=job_id, shop_id=shop_id, steps=transform.ORDER_STEPS
            )

    async def _incremental(self) -> dict[str, str]:
        cursor = self.ctx.cursor or {}
        overlap = timedelta(minutes=self.settings.overlap_minutes)
        orders_since = _since(cursor.get("orders_updated_at"), overlap)
        customers_since = _since(cursor.get("customers_updated_at"), overlap)
        events_since = _since(cursor.get("events_created_at"), overlap) or orders_since
        newest, used_bulk = await self._incremental_orders(orders_since)
        customers = await self.exporter.export(
            "customers", "bulk_customers", updated_since(customers_since)
        )
        if used_bulk:
            async with self._refund_fetcher() as fetch:
                await self._refund_details(fetch, from_staging=True)
        await self._agreements()
        if events_since is not None:
            self.deletions = await deleted_orders(
                self.client, self.settings, events_since, self.ctx.check_cancelled
            )
        orders_mark = _latest(cursor.get("orders_updated_at"), newest)
        events_mark = _latest(
            cursor.get("events_created_at"),
            orders_mark,
            *(d.deleted_at for d in self.deletions),
        )
        return {
            "orders_updated_at": iso(orders_mark) if orders_mark else "",
            "customers_updated_at": iso(customers.started_at),
            "events_created_at": iso(events_mark) if events_mark else "",
        }

    async def _incremental_orders(self, since: datetime | None) -> tuple[datetime | None, bool]:
        """(newest server time covered, whether a bulk export was used)."""
        if since is None:  # no earlier success: the whole history, without pruning
            export = await self.exporter.export("orders", "bulk_orders", "")
            return export.started_at, True
        state = dict(self.progress.get("pages") or {})
        if not state.get("done"):
            outcome = PageOutcome()
            lines = order_page_lines(
                self.client, self.settings, updated_since(since), outcome, self.ctx.check_cancelled
            )
            await self._load(lines)
            state = {
                "done": True,
                "orders": outcome.orders,
                "newest": iso(outcome.newest) if outcome.newest else None,
                "switch_from": iso(outcome.switch_from) if outcome.switch_from else None,
            }
            await self._save("pages", state)
        newest = parse_time(state["newest"]) if state.get("newest") else None
        if not state.get("switch_from"):
            return newest, False
        export = await self.exporter.export(
            "orders", "bulk_orders", updated_since(parse_time(state["switch_from"]))
        )
        return _latest(None, newest, export.started_at), True

    async def _refund_details(self, fetch: RefundPrefetch, *, from_staging: bool) -> None:
        """Load `fetch`'s answers; `from_staging` first queues the orders with refunds already
        in staging (incrementals that used a bulk export, a backfill resumed after its orders
        file loaded)."""
        if self._done("refunds"):
            return
        if from_staging:
            async for batch in refunded_order_ids(self.ctx.connection, self.ctx.job.id):
                for order_id in batch:
                    fetch.include(order_id)
        count = await self._load(fetch.lines())
        await self._save("refunds", {"done": True, "lines": count})

    async def _agreements(self) -> None:
        """Load the edits and returns of the staged orders that have them (agreements.py)."""
        if self._done("agreements"):
            return
        ids = agreement_order_ids(self.ctx.connection, self.ctx.job.id)
        records = agreement_records(self.client, ids, self.ctx.check_cancelled)
        count = await self._load(_lines(records))
        await self._save("agreements", {"done": True, "lines": count})

    def _refund_fetcher(self) -> RefundPrefetch:
        return RefundPrefetch(self.client, self.settings, self.ctx.check_cancelled)

    def _done(self, key: str) -> bool:
        return bool((self.progress.get(key) or {}).get("done"))

    async def _load(self, lines: AsyncIterator[bytes], checkpoint: Checkpoint | None = None) -> int:
        """Stage `lines`: each batch commits with its `checkpoint` and its records_synced."""
        if self._watch is not None:
            lines = _watched(lines, self._watch)
        return await self.writer.copy(lines, checkpoint=checkpoint)

    async def _save(self, key: str, state: dict[str, Any]) -> None:
        self.progress[key] = state
        await self.ctx.save_progress(**{key: state})


async def _together(*steps: Awaitable[None]) -> None:
    """Run `steps` at once; the first to fail cancels the others and is raised as itself (the
    engine reads the error's type: transient, terminal, credential)."""
    tasks = [asyncio.ensure_future(step) for step in steps]
    try:
        done, _ = await asyncio.wait(tasks, return_when=asyncio.FIRST_EXCEPTION)
        for task in done:
            error = task.exception()
            if error is not None:
                raise error
    finally:
        for task in tasks:
            task.cancel()
        for task in tasks:
            with suppress(BaseException):
                await task


async def _watched(
    lines: AsyncIterator[bytes], watch: Callable[[bytes], None]
) -> AsyncIterator[bytes]:
    async for line in lines:
        watch(line)
        yield line


async def _lines(records: AsyncIterator[dict[str, Any]]) -> AsyncIterator[bytes]:
    async for record in records:
        yield orjson.dumps(record)


def _since(value: Any, overlap: timedelta) -> datetime | None:
    return parse_time(value) - overlap if isinstance(value, str) and value else None


def _latest(previous: Any, *moments: datetime | None) -> datetime | None:
    found = [m for m in moments if m is not None]
    if isinstance(previous, str) and previous:
        found.append(parse_time(previous))
    return max(found) if found else None


def _by_time(deletions: list[Deletion]) -> list[tuple[datetime, list[str]]]:
    grouped: dict[datetime, list[str]] = {}
    for deletion in deletions:
        grouped.setdefault(deletion.deleted_at, []).append(deletion.order_id)
    return sorted(grouped.items())
