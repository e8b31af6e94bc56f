"""After a sync: read Shopify's own figures for the days it touched and store them beside the
product's (reporting.shopify_reported_daily; reporting.shopify_report_comparison compares).

A reconciliation never fails the sync: the job's data is committed before it starts, and its
outcome is recorded in reporting.shopify_report_checks instead: `checked`, `not_verified`
(the token lacks `read_reports`) or `failed` with a caller-facing reason. Only the engine's
own stops (lost lease, cancellation) pass through.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime

import asyncpg

from storeline.platforms.shopify.client import ShopifyClient
from storeline.platforms.shopify.sales_report import (
    ReportedDay,
    ReportError,
    ReportUnavailable,
    fetch,
    spans,
)
from storeline.platforms.shopify.settings import ShopifySettings
from storeline.platforms.shopify.sql import queries
from storeline.worker.errors import JobCancelled, LeaseLost, SyncError
from storeline.worker.jobs.contract import JobContext
from storeline.worker.logs import log

CHECKED, NOT_VERIFIED, FAILED = "checked", "not_verified", "failed"


async def store_days(
    conn: asyncpg.Connection, shop_id: str, job_id: int, days: list[ReportedDay]
) -> None:
    if not days:
        return

    def column(name: str) -> list[object]:
        return [d.figures.get(name) for d in days]

    await conn.execute(
        queries()["shopify_store_reported_days"],
        shop_id,
        job_id,
        [d.day for d in days],
        [int(d.figures.get("orders", 0)) for d in days],
        *(column(n) for n in ("gross_sales", "discounts", "returns", "net_sales", "shipping")),
        *(column(n) for n in ("duties", "additional_fees", "taxes", "total_sales")),
    )


async def record(
    ctx: JobContext,
    status: str,
    reason: str | None = None,
    days: list[ReportedDay] | None = None,
) -> None:
    found = [d.day for d in days or []]
    async with ctx.fenced() as conn:
        if days:
            await store_days(conn, ctx.shop.id, ctx.job.id, days)
        await conn.execute(
            queries()["shopify_record_report_check"],
            ctx.shop.id,
            status,
            reason,
            min(found) if found else None,
            max(found) if found else None,
            len(found),
            ctx.job.id,
        )


async def mark_covered(conn: asyncpg.Connection, shop_id: str, until: datetime | None) -> None:
    """In the transform's transaction: order-level data now reaches `until` (provisional.py)."""
    await conn.execute(queries()["shopify_mark_order_coverage"], shop_id, until)


def failure_reason(exc: Exception) -> str:
    """A caller-facing reason: our own messages only (SyncError texts are written to be shown)."""
    if isinstance(exc, ReportError | SyncError):
        return str(exc)
    return f"unexpected error reading Shopify's report ({type(exc).__name__})"


async def reconcile(
    client: ShopifyClient, ctx: JobContext, settings: ShopifySettings, dates: Iterable[date]
) -> str | None:
    """Fetch and store Shopify's figures for the touched `dates`; returns the recorded status
    (None: nothing was touched, nothing checked)."""
    ranges = spans(dates, settings.report_span_days)
    if not ranges or not settings.reconcile:
        return None
    try:
        days: list[ReportedDay] = []
        for first, last in ranges:
            days += await fetch(client, first.isoformat(), last.isoformat())
        await record(ctx, CHECKED, days=days)
        return CHECKED
    except (LeaseLost, JobCancelled):
        raise
    except ReportUnavailable as exc:
        await record(ctx, NOT_VERIFIED, str(exc))
        return NOT_VERIFIED
    except Exception as exc:  # a reconciliation never fails the sync: recorded instead
        log.warning("shopify_reconcile_failed", shop_id=ctx.shop.id, error=failure_reason(exc))
        try:
            await record(ctx, FAILED, failure_reason(exc))
        except (LeaseLost, JobCancelled):
            raise
        except Exception:  # not even the failure could be written: the log has it
            log.exception("shopify_reconcile_record_failed", shop_id=ctx.shop.id)
        return FAILED
