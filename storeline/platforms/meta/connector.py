"""The Meta Ads connector: every ad account in the credential's metadata (`ad_account_ids`) →
ad-level daily insights staged raw → the re-pulled days replaced in core_warehouse → the daily
rollup, all in one fenced transaction.

HISTORICAL_INIT / REBUILD read the account's whole history Meta keeps (37 months, bounded by
Meta itself: `insights.span`); INCREMENTAL re-reads the trailing attribution window (conversions
are still attributed to a day for weeks after it) up to the account's today. Each account's plan
(first day, last day) is fixed in the job's progress on the first attempt, and every chunk of
days commits its "done up to" mark with its last staged rows, so a retry goes on from there.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import orjson

from storeline.core.enums import JobType, Platform
from storeline.platforms.meta import insights
from storeline.platforms.meta.client import MetaClient
from storeline.platforms.meta.settings import MetaSettings, meta_settings
from storeline.platforms.meta.sql import queries as sql
from storeline.worker.errors import CredentialError, TerminalError
from storeline.worker.jobs.contract import JobContext
from storeline.worker.kit.phases import Phases
from storeline.worker.kit.staging import StagingWriter
from storeline.worker.kit.state import State, entry, read

TABLE = "meta_insights_raw"
# Conversion columns of the warehouse and the action types each counts (explicit sets).
ADD_TO_CART = ["omni_add_to_cart"]
CHECKOUT = ["omni_initiated_checkout"]
VIEW_CONTENT = ["omni_view_content"]
LEADS = ["lead", "onsite_conversion.lead_grouped"]


class AccountPlan(State):
    """One ad account's range in this job, fixed on the first attempt."""

    since: date | None = None
    until: date | None = None
    done_until: date | None = None  # every day up to here is staged
    empty: bool = False  # the account never delivered: nothing to read


class AccountCursor(State):
    today: date | None = None  # the account's last day read by a successful job


class MetaConnector:
    platform = Platform.META

    def __init__(self, settings: MetaSettings | None = None) -> None:
        self._settings = settings
        self.last_client: MetaClient | None = None  # tests and bench read its counters
        self.phases: Phases | None = None  # the last run's phase timings (bench scripts)

    async def run(self, ctx: JobContext) -> None:
        settings = self._settings or meta_settings()
        token = ctx.secrets.get("access_token")
        if not isinstance(token, str) or not token:
            raise CredentialError("no Meta access token is stored", code="meta_no_token")
        accounts = account_ids(ctx.metadata)
        async with MetaClient(token, settings, ctx.pool, on_progress=ctx.touch) as client:
            self.last_client = client
            sync = MetaSync(ctx, client, settings)
            self.phases = phase = Phases(ctx)
            for account_id in accounts:
                async with phase("insights"):
                    await sync.account(account_id)
            async with phase("transform"):
                await sync.transform()


def account_ids(metadata: Any) -> list[str]:
    """`ad_account_ids` as `act_<digits>`, deduplicated, in order."""
    raw = metadata.get("ad_account_ids") if hasattr(metadata, "get") else None
    if isinstance(raw, str):
        raw = [raw]
    found: list[str] = []
    for item in raw or []:
        text = str(item).strip()
        number = text.removeprefix("act_")
        if not number.isdigit():
            raise TerminalError(
                f"'{text}' is not a Meta ad account id (act_<digits>)", code="meta_bad_account"
            )
        if f"act_{number}" not in found:
            found.append(f"act_{number}")
    if not found:
        raise TerminalError(
            "no Meta ad account is configured for this shop (metadata ad_account_ids)",
            code="meta_no_ad_accounts",
        )
    return found


class MetaSync:
    def __init__(self, ctx: JobContext, client: MetaClient, settings: MetaSettings) -> None:
        self.ctx = ctx
        self.client = client
        self.settings = settings
        self.writer = StagingWriter(ctx, TABLE, batch_bytes=settings.staging_batch_bytes)
        self.plans: dict[str, AccountPlan] = {}

    async def account(self, account_id: str) -> None:
        key = f"meta_{account_id}"
        plan = read(AccountPlan, self.ctx.job.progress, key)
        if plan.until is None and not plan.empty:
            plan = await self._plan(account_id, key)
        self.plans[account_id] = plan
        if plan.empty or plan.since is None or plan.until is None:
            return
        start = plan.since if plan.done_until is None else plan.done_until + timedelta(days=1)
        while start <= plan.until:
            self.ctx.check_cancelled()
            end = min(start + timedelta(days=self.settings.chunk_days - 1), plan.until)
            done = plan.model_copy(update={"done_until": end})

            def checkpoint(consumed: int, finished: bool, done: AccountPlan = done) -> Any:
                return entry(key, done) if finished else {}

            lines = insights.lines(self.client, account_id, start, end, self.ctx.check_cancelled)
            await self.writer.copy(lines, checkpoint=checkpoint)
            plan = done
            start = end + timedelta(days=1)
        self.plans[account_id] = plan

    async def _plan(self, account_id: str, key: str) -> AccountPlan:
        """Fix the account's range and stage its node (currency, timezone) with that plan."""
        node = await insights.account(self.client, account_id)
        span = await insights.span(self.client, account_id, self.ctx.check_cancelled)
        if span is None:
            plan = AccountPlan(empty=True)
        else:
            since = span.first
            cursor = read(AccountCursor, self.ctx.cursor, account_id)
            if self.ctx.job.job_type == JobType.INCREMENTAL and cursor.today is not None:
                window = timedelta(days=self.settings.attribution_window_days - 1)
                since = max(span.first, min(cursor.today, span.today) - window)
            plan = AccountPlan(since=since, until=span.today)

        async def node_line() -> Any:
            yield orjson.dumps(node)

        await self.writer.copy(node_line(), checkpoint=lambda _n, _f: entry(key, plan))
        return plan

    def _final_through(self, ranges: list[tuple[str, date, date]]) -> date | None:
        """The last day whose attribution window had closed on every account's today."""
        window = timedelta(days=self.settings.attribution_window_days)
        return min((until - window for _, _, until in ranges), default=None)

    async def transform(self) -> None:
        """Replace the re-pulled days and rebuild their daily rollup, in one fenced transaction."""
        ranges: list[tuple[str, date, date]] = [
            (account, plan.since, plan.until)
            for account, plan in self.plans.items()
            if plan.since is not None and plan.until is not None
        ]
        q = sql()
        shop = self.ctx.shop.id
        async with self.ctx.fenced() as conn:
            await conn.execute(
                q["meta_delete_days"],
                shop,
                [r[0] for r in ranges],
                [r[1] for r in ranges],
                [r[2] for r in ranges],
            )
            written = await conn.fetch(
                q["meta_insert_rows"],
                shop,
                self.ctx.job.id,
                sorted(self.settings.purchase_action_types),
                ADD_TO_CART,
                CHECKOUT,
                VIEW_CONTENT,
                LEADS,
            )
            # Every re-pulled day: one whose rows all vanished must lose its rollup row too.
            days = sorted({r["day"] for r in written} | _days(ranges))
            await conn.execute(q["meta_fill_daily"], shop, days, self._final_through(ranges))
            await conn.execute(q["meta_drop_daily"], shop, days)
            await conn.execute(q["meta_clear_campaigns"], shop, days)
            await conn.execute(q["meta_fill_campaigns"], shop, days)
        watermark: dict[str, Any] = {
            account: AccountCursor(today=plan.until).model_dump(mode="json")
            for account, plan in self.plans.items()
            if plan.until is not None
        }
        self.ctx.set_cursor({**dict(self.ctx.cursor or {}), **watermark})


def _days(ranges: list[tuple[str, date, date]]) -> set[date]:
    out: set[date] = set()
    for _, since, until in ranges:
        day = since
        while day <= until:
            out.add(day)
            day += timedelta(days=1)
    return out
