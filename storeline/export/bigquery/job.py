"""The BIGQUERY export as the engine runs it: one job per shop, claimed, leased and retried like a
sync, in its own (shop, BIGQUERY) slot, so a failed or slow export never blocks a sync.

The BigQuery client and pyarrow load on the first export, not when the worker starts (the
registry loads every connector at start; most deployments never export).
"""

from __future__ import annotations

from storeline.core.enums import Platform
from storeline.export.bigquery.settings import bigquery_settings
from storeline.worker.errors import TerminalError
from storeline.worker.jobs.contract import JobContext
from storeline.worker.logs import log


class BigQueryExport:
    platform = Platform.BIGQUERY

    async def run(self, ctx: JobContext) -> None:
        settings = bigquery_settings()
        if not settings.project:
            raise TerminalError(
                "BigQuery is not configured: set STORELINE_BIGQUERY_PROJECT",
                code="bigquery_not_configured",
                task="bigquery.settings",
            )
        from storeline.export.bigquery.export import export_shop

        result = await export_shop(ctx, settings)
        if result.rows:
            await ctx.add_records(result.rows)
        await ctx.save_progress(mirror=result.summary())
        ctx.set_cursor({"dataset": result.dataset, "rows": result.rows})
        log.info(
            "bigquery_mirrored",
            job_id=ctx.job.id,
            shop_id=ctx.shop.id,
            rows=result.rows,
            load_jobs=result.load_jobs,
            bytes=result.bytes,
            seconds=round(result.seconds, 3),
            skipped_views=sorted(result.skipped_views),
        )
