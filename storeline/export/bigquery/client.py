"""The google-cloud-bigquery client the mirror talks through, built from settings.

Credentials are resolved here and handed to the client object only; nothing about them (path
contents, tokens) is logged or put in a job's error.
"""

from __future__ import annotations

from google.api_core.client_options import ClientOptions
from google.auth.credentials import AnonymousCredentials, Credentials
from google.cloud import bigquery

from storeline.export.bigquery.settings import BigQuerySettings


class CredentialsUnreadable(Exception):
    """The configured key file cannot be used; the message names the setting, never contents."""


def _credentials(settings: BigQuerySettings) -> Credentials | None:
    if settings.endpoint:
        return AnonymousCredentials()  # type: ignore[no-untyped-call]
    if settings.credentials_file is not None:
        from google.oauth2 import service_account

        try:
            return service_account.Credentials.from_service_account_file(  # type: ignore[no-any-return,no-untyped-call]
                str(settings.credentials_file),
                scopes=["https://www.googleapis.com/auth/bigquery"],
            )
        except (OSError, ValueError, KeyError) as exc:
            # Parse errors may quote the file; only the exception's type is kept.
            raise CredentialsUnreadable(
                "STORELINE_BIGQUERY_CREDENTIALS_FILE is not a readable service-account key "
                f"({type(exc).__name__})"
            ) from None
    return None  # application default credentials, found by the client itself


def make_client(settings: BigQuerySettings) -> bigquery.Client:
    assert settings.project, "checked by the caller"
    options = ClientOptions(api_endpoint=settings.endpoint) if settings.endpoint else None
    return bigquery.Client(
        project=settings.project,
        credentials=_credentials(settings),
        location=settings.location,
        client_options=options,
    )
