"""An access token from an OAuth credential: HubSpot's refresh-token grant, `POST
/oauth/v1/token` (form body). HubSpot's refresh tokens do not rotate, so nothing is written back;
access tokens live 30 minutes, so every job starts with a grant and refreshes on expiry
(`client.HubSpotClient`). A refused grant (400 `BAD_REFRESH_TOKEN`, `BAD_CLIENT_ID`, …) means the
portal must be reconnected: CredentialError, NEEDS_REAUTH.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import httpx
import orjson

from storeline.platforms.hubspot.pacing import retry_after_seconds
from storeline.platforms.hubspot.settings import HubSpotSettings
from storeline.worker.errors import CredentialError, TerminalError, TransientError
from storeline.worker.kit.http import Retry, RetryPolicy, SourceClient, Throttle

FIELDS = ("client_id", "client_secret", "refresh_token")


def is_oauth(secrets: Mapping[str, Any]) -> bool:
    return all(isinstance(secrets.get(f), str) and secrets[f] for f in FIELDS)


async def access_token(settings: HubSpotSettings, secrets: Mapping[str, Any]) -> str:
    form = {"grant_type": "refresh_token", **{f: str(secrets[f]) for f in FIELDS}}

    def classify(response: httpx.Response) -> None:
        status = response.status_code
        if status == 200:
            return
        if status in (400, 401, 403):
            raise CredentialError(
                "HubSpot refused the refresh token: reconnect HubSpot",
                code="hubspot_refresh_invalid",
            )
        if status == 429:
            delay = retry_after_seconds(response, settings.default_retry_after_seconds)
            raise Throttle("hubspot_rate_limited", "HubSpot is rate limiting token grants", delay)
        if status >= 500:
            raise Retry("hubspot_unavailable", f"HubSpot's token endpoint answered {status}")
        raise TerminalError(f"HubSpot's token endpoint answered {status}", code="hubspot_oauth")

    async with SourceClient(
        classify=classify,
        policy=RetryPolicy(
            max_retries=settings.max_retries, backoff_seconds=settings.retry_backoff_seconds
        ),
        timeout=settings.request_timeout_seconds,
        headers={"Accept": "application/json"},
        secrets=tuple(str(secrets[f]) for f in FIELDS),
    ) as http:
        url = f"{settings.base_url.rstrip('/')}/oauth/v1/token"
        response = await http.request("POST", url, data=form)
    try:
        token = orjson.loads(response.content).get("access_token")
    except (orjson.JSONDecodeError, AttributeError):
        token = None
    if not isinstance(token, str) or not token:
        raise TransientError("HubSpot's token grant had no access token", code="hubspot_oauth")
    return token
