"""First numbers in seconds: a shop without order-level data yet gets Shopify's own daily
figures for its recent history (shopifyqlQuery, a few requests) while the backfill runs.

They land in reporting.shopify_reported_daily, the last month first, each in its own committed
transaction, and reporting.daily_figures shows them marked provisional until the transform
marks the shop's order-level coverage (reconcile.mark_covered, same transaction as the
rollup): from then on each covered day is the order-level figure. Like the reconciliation,
this never fails the sync: without `read_reports` the shop is recorded as not verified and
simply waits for its backfill.
"""

from __future__ import annotations

from storeline.platforms.shopify.client import ShopifyClient
from storeline.platforms.shopify.reconcile import NOT_VERIFIED, failure_reason, record, store_days
from storeline.platforms.shopify.sales_report import ReportUnavailable, fetch, history
from storeline.platforms.shopify.settings import ShopifySettings
from storeline.platforms.shopify.sql import queries
from storeline.worker.errors import JobCancelled, LeaseLost
from storeline.worker.jobs.contract import JobContext
from storeline.worker.logs import log


async def first_figures(client: ShopifyClient, ctx: JobContext, settings: ShopifySettings) -> int:
    """Store Shopify's daily figures for the last `report_history_days` days when the shop has
    no order-level data yet; returns how many days were stored."""
    if not settings.report_history_days:
        return 0
    async with ctx.connection() as conn:
        if await conn.fetchval(queries()["shopify_has_order_coverage"], ctx.shop.id):
            return 0
    stored = 0
    try:
        for since, until in history(settings.report_history_days, settings.report_span_days):
            days = await fetch(client, since, until)
            async with ctx.fenced() as conn:
                await store_days(conn, ctx.shop.id, ctx.job.id, days)
            stored += len(days)
    except (LeaseLost, JobCancelled):
        raise
    except ReportUnavailable as exc:
        await record(ctx, NOT_VERIFIED, str(exc))
    except Exception as exc:  # the backfill goes on; the reconciliation will record its own
        log.warning("shopify_first_figures_failed", shop_id=ctx.shop.id, error=failure_reason(exc))
    log.info("shopify_first_figures", shop_id=ctx.shop.id, days=stored)
    return stored
