"""The GA4 connector: the credential's property (`property_id`) → day totals, one-day breakdowns
and range users staged raw, page by page → the re-pulled days (and the ranges overlapping them)
replaced in core_warehouse, in one fenced transaction.

HISTORICAL_INIT / REBUILD read the property's retention (`retention_months`, bounded by the first
day GA4 has data for); INCREMENTAL re-reads the trailing days GA4 still restates
(`trailing_days`) up to the property's today. The plan (first day, last day, timezone) is fixed
in the job's progress on the first attempt, and every chunk of days commits its "done up to"
mark with its last staged lines, so a retry goes on from there; the cursor moves only with
SUCCEEDED, so a job that fails (quota, credentials) leaves it where it was.
"""

from __future__ import annotations

import math
from datetime import date, timedelta
from typing import Any

from storeline.core.enums import JobType, Platform
from storeline.platforms.ga4 import reports
from storeline.platforms.ga4.client import Ga4Client
from storeline.platforms.ga4.settings import Ga4Settings, ga4_settings
from storeline.platforms.ga4.sql import queries as sql
from storeline.worker.errors import CredentialError, TerminalError
from storeline.worker.jobs.contract import JobContext
from storeline.worker.kit.phases import Phases
from storeline.worker.kit.staging import StagingWriter
from storeline.worker.kit.state import State, entry, read

TABLE = "ga4_reports_raw"
PROGRESS = "ga4"
SECRETS = ("client_id", "client_secret", "refresh_token")


class PropertyPlan(State):
    """The property's range in this job, fixed on the first attempt."""

    since: date | None = None
    until: date | None = None  # the property's today when the job started
    done_until: date | None = None  # every day up to here is staged
    empty: bool = False  # no sessions in the retention window: nothing to read
    timezone: str | None = None
    ranges_done: bool = False  # the range users (reports.user_ranges) are staged


class PropertyCursor(State):
    property_id: str | None = None
    today: date | None = None  # the property's last day read by a successful job


class Ga4Connector:
    platform = Platform.GA4

    def __init__(self, settings: Ga4Settings | None = None) -> None:
        self._settings = settings
        self.last_client: Ga4Client | None = None  # tests and bench read its counters
        self.phases: Phases | None = None  # the last run's phase timings (bench scripts)

    async def run(self, ctx: JobContext) -> None:
        settings = self._settings or ga4_settings()
        secrets = {k: ctx.secrets.get(k) for k in SECRETS}
        missing = [k for k, v in secrets.items() if not isinstance(v, str) or not v]
        if missing:
            raise CredentialError(
                f"the GA4 credential lacks {', '.join(missing)}", code="ga4_no_credentials"
            )
        property_id = property_of(ctx.metadata)
        client = Ga4Client(
            {k: str(v) for k, v in secrets.items()},
            property_id,
            settings,
            ctx.pool,
            on_progress=ctx.touch,
        )
        async with client:
            self.last_client = client
            sync = Ga4Sync(ctx, client, settings, property_id)
            self.phases = phase = Phases(ctx)
            async with phase("reports"):
                await sync.read()
            async with phase("transform"):
                await sync.transform()


def property_of(metadata: Any) -> str:
    """`property_id` as digits (`properties/<digits>` is accepted too)."""
    raw = metadata.get("property_id") if hasattr(metadata, "get") else None
    text = str(raw or "").strip().removeprefix("properties/")
    if not text.isdigit():
        raise TerminalError(
            "no GA4 property is configured for this shop (metadata property_id, digits)",
            code="ga4_no_property",
        )
    return text


class Ga4Sync:
    def __init__(
        self, ctx: JobContext, client: Ga4Client, settings: Ga4Settings, property_id: str
    ) -> None:
        self.ctx = ctx
        self.client = client
        self.settings = settings
        self.property_id = property_id
        self.writer = StagingWriter(ctx, TABLE, batch_bytes=settings.staging_batch_bytes)
        self.plan = read(PropertyPlan, ctx.job.progress, PROGRESS)

    async def read(self) -> None:
        if self.plan.until is None and not self.plan.empty:
            self.plan = await self._plan()
            await self.ctx.save_progress(**entry(PROGRESS, self.plan))
        plan = self.plan
        if plan.empty or plan.since is None or plan.until is None:
            return
        first, last = plan.since, plan.until
        start = plan.since if plan.done_until is None else plan.done_until + timedelta(days=1)
        while start <= plan.until:
            self.ctx.check_cancelled()
            end = min(start + timedelta(days=self.settings.totals_chunk_days - 1), plan.until)
            done = plan.model_copy(update={"done_until": end})

            def checkpoint(consumed: int, finished: bool, done: PropertyPlan = done) -> Any:
                return entry(PROGRESS, done) if finished else {}

            lines = reports.chunk_lines(self.client, start, end, self.settings.concurrency)
            await self.writer.copy(lines, checkpoint=checkpoint)
            plan = done
            start = end + timedelta(days=1)
        if not plan.ranges_done:
            finished = plan.model_copy(update={"ranges_done": True})

            def ranges_checkpoint(consumed: int, finished_copy: bool) -> Any:
                return entry(PROGRESS, finished) if finished_copy else {}

            ranges = reports.user_ranges(first, last)
            lines = reports.range_lines(self.client, ranges)
            await self.writer.copy(lines, checkpoint=ranges_checkpoint)
            plan = finished
        self.plan = plan

    async def _plan(self) -> PropertyPlan:
        span = await reports.span(self.client, self.settings.retention_months)
        if span is None:
            return PropertyPlan(empty=True)
        since = span.first
        cursor = read(PropertyCursor, self.ctx.cursor)
        incremental = self.ctx.job.job_type == JobType.INCREMENTAL
        if incremental and cursor.today is not None and cursor.property_id == self.property_id:
            window = timedelta(days=self.settings.trailing_days - 1)
            since = max(span.first, min(cursor.today, span.today) - window)
        return PropertyPlan(since=since, until=span.today, timezone=span.timezone)

    async def transform(self) -> None:
        """Replace the re-pulled days of both facts, in one fenced transaction."""
        plan = self.plan
        if plan.since is not None and plan.until is not None:
            # A day is final once `settle_hours` have passed since its end (property time).
            settled = plan.until - timedelta(days=1 + math.ceil(self.settings.settle_hours / 24))
            q = sql()
            shop, job = self.ctx.shop.id, self.ctx.job.id
            async with self.ctx.fenced() as conn:
                args = (shop, self.property_id, plan.since, plan.until)
                await conn.execute(q["ga4_delete_rows"], *args)
                await conn.execute(q["ga4_delete_totals"], *args)
                await conn.execute(q["ga4_insert_rows"], shop, self.property_id, job)
                await conn.execute(
                    q["ga4_insert_totals"], shop, self.property_id, job, settled, plan.timezone
                )
                await conn.execute(q["ga4_delete_ranges"], *args)
                await conn.execute(q["ga4_insert_ranges"], shop, self.property_id, job)
        cursor = PropertyCursor(property_id=self.property_id, today=plan.until or None)
        self.ctx.set_cursor(cursor.model_dump(mode="json"))
