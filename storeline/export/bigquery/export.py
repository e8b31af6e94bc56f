"""One shop's export with BigQuery's errors sorted for the engine: missing or refused
credentials are terminal (a retry cannot fix them); BigQuery's 5xx, rate limits and connection
trouble are transient. Messages name the problem, never a credential."""

from __future__ import annotations

from google.api_core import exceptions as gexc
from google.auth.exceptions import DefaultCredentialsError, RefreshError

from storeline.export.bigquery.client import CredentialsUnreadable, make_client
from storeline.export.bigquery.mirror import Mirror, MirrorResult
from storeline.export.bigquery.settings import BigQuerySettings
from storeline.worker.errors import TerminalError, TransientError
from storeline.worker.jobs.contract import JobContext

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


async def export_shop(ctx: JobContext, settings: BigQuerySettings) -> MirrorResult:
    try:
        client = make_client(settings)
        try:
            return await Mirror(ctx, client, settings).run()
        finally:
            client.close()  # type: ignore[no-untyped-call]
    except CredentialsUnreadable as exc:
        raise TerminalError(str(exc), code="bigquery_credentials", task="bigquery.auth") from None
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
