"""The BIGQUERY export as the engine runs it: one job per shop, claimed, leased and retried like a
sync, in its own (shop, BIGQUERY) slot, so a failed or slow export never blocks a sync.

Errors are sorted for the engine: missing settings and refused credentials are terminal (a
retry cannot fix them); BigQuery's 5xx, rate limits and connection trouble are transient.
Messages name the problem, never a credential.
"""

from __future__ import annotations

from google.api_core import exceptions as gexc
from google.auth.exceptions import DefaultCredentialsError, RefreshError

from storeline.core.enums import Platform
from storeline.export.bigquery.client import CredentialsUnreadable, make_client
from storeline.export.bigquery.mirror import Mirror
from storeline.export.bigquery.settings import bigquery_settings
from storeline.worker.errors import TerminalError, TransientError
from storeline.worker.jobs.contract import JobContext
from storeline.worker.logs import log

_TRANSIENT = (
    gexc.ServiceUnavailable,
    gexc.InternalServerError,
    gexc.TooManyRequests,
    gexc.GatewayTimeout,
    gexc.BadGateway,
    gexc.RetryError,
    ConnectionError,
    TimeoutError,
)


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
        try:
            client = make_client(settings)
            try:
                result = await Mirror(ctx, client, settings).run()
            finally:
                client.close()  # type: ignore[no-untyped-call]
        except CredentialsUnreadable as exc:
            raise TerminalError(
                str(exc), code="bigquery_credentials", task="bigquery.auth"
            ) from None
        except (DefaultCredentialsError, RefreshError, gexc.Unauthorized, gexc.Forbidden) as exc:
            raise TerminalError(
                f"BigQuery refused the credentials: {type(exc).__name__}",
                code="bigquery_auth",
                task="bigquery.auth",
            ) from exc
        except _TRANSIENT as exc:
            raise TransientError(
                f"BigQuery is unavailable: {type(exc).__name__}",
                code="bigquery_unavailable",
                task="bigquery.mirror",
            ) from exc
        except gexc.NotFound as exc:
            raise TransientError(
                "a BigQuery dataset or table vanished during the export; it is recreated on retry",
                code="bigquery_not_found",
                task="bigquery.mirror",
            ) from exc
        except gexc.GoogleAPICallError as exc:
            raise TerminalError(
                f"BigQuery rejected a request ({exc.code}): {exc.message}",
                code="bigquery_rejected",
                task="bigquery.mirror",
            ) from exc
        if result.rows:
            await ctx.add_records(result.rows)
        summary = result.summary()
        await ctx.save_progress(mirror=summary)
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
