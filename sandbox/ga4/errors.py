"""Google's error envelopes: `{"error": {code, message, status}}` for the Data API and the flat
`{"error", "error_description"}` pair the OAuth token endpoint uses."""

from __future__ import annotations

from typing import Any

from litestar import Response

SCHEMA_URL = "https://developers.google.com/analytics/devguides/reporting/data/v1/api-schema"
CREDENTIALS_HINT = (
    "Expected OAuth 2 access token, login cookie or other valid authentication credential. "
    "See https://developers.google.com/identity/sign-in/web/devconsole-project."
)
MISSING_CREDENTIALS = f"Request is missing required authentication credential. {CREDENTIALS_HINT}"
INVALID_CREDENTIALS = f"Request had invalid authentication credentials. {CREDENTIALS_HINT}"
NO_PERMISSION = (
    "User does not have sufficient permissions for this property. To learn more about Property "
    "ID, see https://developers.google.com/analytics/devguides/reporting/data/v1/property-id."
)

STATUS_NAMES = {
    400: "INVALID_ARGUMENT",
    401: "UNAUTHENTICATED",
    403: "PERMISSION_DENIED",
    404: "NOT_FOUND",
    429: "RESOURCE_EXHAUSTED",
    500: "INTERNAL",
    503: "UNAVAILABLE",
}


class ApiError(Exception):
    """Raised anywhere in a Data API request; the app turns it into Google's JSON error."""

    def __init__(self, code: int, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


def api_error(code: int, message: str) -> Response[Any]:
    body = {"error": {"code": code, "message": message, "status": STATUS_NAMES[code]}}
    headers = {}
    if code == 401:
        headers["WWW-Authenticate"] = (
            'Bearer realm="https://accounts.google.com/", error="invalid_token"'
        )
    return Response(body, status_code=code, headers=headers, media_type="application/json")


def oauth_error(code: int, error: str, description: str) -> Response[Any]:
    return Response(
        {"error": error, "error_description": description},
        status_code=code,
        media_type="application/json",
    )
