"""Ad-level daily insights of one ad account over a date range, as raw JSON lines.

`level=ad`, `time_increment=1`, no action breakdowns (they make counts diverge from Ads
Manager); the attribution setting comes back on every row (`attribution_setting`). Ranges up to
`sync_max_days` are read synchronously; longer ones, or a synchronous read Meta could not finish
(code 1, 100/1504018, 2/1504038), go through an async report run: POST …/insights, poll the run
until `Job Completed`, page its `/insights`. Dates are the ad account's own days.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from datetime import date
from typing import Any

import orjson

from storeline.platforms.meta.client import InsightsTooLarge, MetaClient
from storeline.worker.errors import TransientError

FIELDS = (
    "account_id", "account_currency", "campaign_id", "campaign_name", "adset_id", "adset_name",
    "ad_id", "ad_name", "objective", "buying_type", "attribution_setting", "spend",
    "impressions", "reach", "frequency", "clicks", "inline_link_clicks", "cpc", "cpm", "ctr",
    "actions", "action_values",
)  # fmt: skip
ACCOUNT_FIELDS = "account_id,name,currency,timezone_name,account_status"
_DONE = "Job Completed"
_FAILED = ("Job Failed", "Job Skipped")


@dataclass(frozen=True)
class Span:
    """The days an account has insights for, as Meta sees them (its own today)."""

    first: date
    today: date


async def account(client: MetaClient, account_id: str) -> dict[str, Any]:
    """The ad account's node: currency and timezone are stored with its rows."""
    return await client.get(account_id, {"fields": ACCOUNT_FIELDS})


async def span(
    client: MetaClient, account_id: str, check_cancelled: Callable[[], None]
) -> Span | None:
    """Meta's own view of the account's history: `date_preset=maximum` answers with the
    retention-bounded range ending on the account's today (the worker's clock is not Meta's).
    None when the account never delivered."""
    params = {
        "level": "account",
        "date_preset": "maximum",
        "time_increment": "all_days",
        "fields": "spend",
    }
    async for row in _read(client, account_id, params, check_cancelled, sync=True):
        return Span(date.fromisoformat(row["date_start"]), date.fromisoformat(row["date_stop"]))
    return None


async def lines(
    client: MetaClient,
    account_id: str,
    since: date,
    until: date,
    check_cancelled: Callable[[], None],
) -> AsyncIterator[bytes]:
    """Every ad-day row of the range, one JSON line each."""
    settings = client.settings
    params = {
        "level": "ad",
        "time_increment": "1",
        "fields": ",".join(FIELDS),
        "time_range": orjson.dumps(
            {"since": since.isoformat(), "until": until.isoformat()}
        ).decode(),
        "limit": str(settings.page_limit),
    }
    sync = (until - since).days + 1 <= settings.sync_max_days
    async for row in _read(client, account_id, params, check_cancelled, sync=sync):
        yield orjson.dumps(row)


async def _read(
    client: MetaClient,
    account_id: str,
    params: dict[str, Any],
    check_cancelled: Callable[[], None],
    *,
    sync: bool,
) -> AsyncIterator[dict[str, Any]]:
    """An insights read, synchronous when `sync`, else (or when Meta cannot answer it in time)
    as an async report run. A synchronous read is collected before anything is yielded, so a
    fallback never hands on a row twice."""
    if sync:
        try:
            rows = [row async for row in client.rows(f"{account_id}/insights", params)]
        except InsightsTooLarge:
            rows = None
        if rows is not None:
            for row in rows:
                yield row
            return
    async for row in _report_run(client, account_id, params, check_cancelled):
        yield row


async def _report_run(
    client: MetaClient,
    account_id: str,
    params: dict[str, Any],
    check_cancelled: Callable[[], None],
) -> AsyncIterator[dict[str, Any]]:
    settings = client.settings
    created = await client.post(f"{account_id}/insights", params)
    run_id = str(created.get("report_run_id") or "")
    if not run_id:
        raise TransientError("Meta did not start the report run", code="meta_report_not_started")
    deadline = time.monotonic() + settings.report_timeout_seconds
    interval = settings.poll_min_seconds
    while True:
        check_cancelled()
        run = await client.get(run_id, {"fields": "async_status,async_percent_completion"})
        status = run.get("async_status")
        if status == _DONE:
            break
        if status in _FAILED:
            raise TransientError(f"Meta's report run ended '{status}'", code="meta_report_failed")
        if time.monotonic() > deadline:
            raise TransientError("Meta's report run did not finish", code="meta_report_timeout")
        await asyncio.sleep(interval)
        interval = min(interval * 1.5, settings.poll_max_seconds)
    page_params = {"limit": str(settings.page_limit)}
    async for row in client.rows(f"{run_id}/insights", page_params):
        yield row
