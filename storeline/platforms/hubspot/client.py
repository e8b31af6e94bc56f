"""HubSpot CRM v3 through the kit's client: what each answer means, and per-portal pacing.

Classified by status and HubSpot's error fields, never by message text (docs/platforms/hubspot.md):
  401                    → CredentialError (expired or revoked token: reconnect HubSpot)
  403                    → CredentialError (the private app lacks a scope)
  429                    → Throttle for Retry-After (seconds; a value over 1,000 is read as
                           milliseconds), whatever `category`/`groupName` the body has or lacks
  404                    → NotFound (an object archived since it was found)
  400                    → BadRequest (search past the 10,000-result cap answers 400: the
                           search reader re-slices instead of failing)
  207                    → a batch answer (some inputs in its `errors`): read as a 200
  5xx, non-JSON 200      → resend with backoff
  anything else          → TerminalError
With an OAuth credential, an access token that expires mid-job (401 EXPIRED_AUTHENTICATION) is
refreshed once and the request resent; a private app's token cannot be refreshed, so its 401
ends the job. The token travels in the Authorization header only; paging sends our own `after`,
never a `paging.next.link`.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from typing import Any

import asyncpg
import httpx
import orjson

from storeline.platforms.hubspot.pacing import PortalPacer, retry_after_seconds
from storeline.platforms.hubspot.settings import HubSpotSettings
from storeline.worker.errors import CredentialError, TerminalError
from storeline.worker.kit.http import Retry, RetryPolicy, SourceClient, Throttle


class BadRequest(TerminalError):
    """HubSpot refused the request as invalid (HTTP 400)."""


class NotFound(TerminalError):
    """The object is gone (archived or merged since it was listed): HTTP 404."""


class HubSpotClient:
    def __init__(
        self,
        token: str,
        portal: str,
        settings: HubSpotSettings,
        pool: asyncpg.Pool,
        *,
        on_progress: Callable[[], None] | None = None,
        refresh: Callable[[], Awaitable[str]] | None = None,
    ) -> None:
        self.settings = settings
        self._refresh = refresh
        self.refreshes = 0
        policy = RetryPolicy(
            max_retries=settings.max_retries,
            backoff_seconds=settings.retry_backoff_seconds,
            max_throttle_wait=settings.max_throttle_wait_seconds,
        )
        headers = {"Authorization": f"Bearer {token}", "Accept": "application/json"}
        common: dict[str, Any] = {
            "classify": self._classify,
            "policy": policy,
            "timeout": settings.request_timeout_seconds,
            "headers": headers,
            "on_progress": on_progress,
            "secrets": (token,),
            "source_name": "HubSpot",
        }
        # Search has its own, tighter limit (per second) on top of the portal's 10-second tier.
        self.objects = SourceClient(
            pacer=PortalPacer(pool, portal, "objects", settings.requests_per_ten_seconds, 10.0),
            **common,
        )
        self.searches = SourceClient(
            pacer=PortalPacer(pool, portal, "search", settings.search_requests_per_second, 1.0),
            **common,
        )

    async def __aenter__(self) -> HubSpotClient:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.objects.__aexit__(*exc)
        await self.searches.__aexit__(*exc)

    async def get(self, path: str, params: Mapping[str, Any] | None = None) -> dict[str, Any]:
        return await self._send(self.objects, "GET", self._url(path), params=params)

    async def post(self, path: str, body: Mapping[str, Any]) -> dict[str, Any]:
        """A batch read: paced with the object endpoints (the portal's 10-second tier)."""
        return await self._send(self.objects, "POST", self._url(path), json=body)

    async def search(self, kind: str, body: Mapping[str, Any]) -> dict[str, Any]:
        url = self._url(f"/crm/v3/objects/{kind}/search")
        return await self._send(self.searches, "POST", url, json=body)

    async def _send(self, http: SourceClient, method: str, url: str, **kw: Any) -> dict[str, Any]:
        try:
            return await _fetch(http, method, url, **kw)
        except CredentialError as err:
            if self._refresh is None or err.code != "hubspot_token_expired":
                raise
        token = await self._refresh()  # raises CredentialError itself if the grant is refused
        self.refreshes += 1
        for client in (self.objects, self.searches):
            client.set_header("Authorization", f"Bearer {token}", secret=token)
        return await _fetch(http, method, url, **kw)

    @property
    def throttled(self) -> int:
        return self.objects.stats.throttled + self.searches.stats.throttled

    @property
    def requests(self) -> int:
        return self.objects.stats.requests + self.searches.stats.requests

    def _url(self, path: str) -> str:
        return f"{self.settings.base_url.rstrip('/')}{path}"

    def _classify(self, response: httpx.Response) -> dict[str, Any]:
        """The answer's JSON object, or the exception the module docstring maps it to."""
        status = response.status_code
        if status in (200, 207):  # 207: a batch read whose `errors` list some inputs
            try:
                payload = orjson.loads(response.content)
            except orjson.JSONDecodeError:
                payload = None
            if not isinstance(payload, dict):
                raise Retry("hubspot_malformed", "HubSpot sent a malformed response")
            return payload
        body = _error_body(response)
        if status == 401:
            expired = body.get("category") == "EXPIRED_AUTHENTICATION"
            raise CredentialError(
                "HubSpot rejected the access token: reconnect HubSpot",
                code="hubspot_token_expired" if expired else "hubspot_token_invalid",
            )
        if status == 403:
            raise CredentialError(
                "HubSpot refused access (missing scopes): reconnect HubSpot",
                code="hubspot_permission",
            )
        if status == 429:
            raise Throttle(
                "hubspot_rate_limited",
                "HubSpot is rate limiting this portal",
                retry_after_seconds(response, self.settings.default_retry_after_seconds),
            )
        if status == 400:
            message = self.objects.scrub(str(body.get("message")))[:300]
            raise BadRequest(
                f"HubSpot refused the request: {message}",
                code="hubspot_bad_request",
            )
        if status == 404:
            raise NotFound("HubSpot has no such object", code="hubspot_not_found")
        if status >= 500:
            raise Retry("hubspot_unavailable", f"HubSpot answered {status}")
        raise TerminalError(f"HubSpot answered {status}", code="hubspot_http_error")


def _error_body(response: httpx.Response) -> dict[str, Any]:
    try:
        body = orjson.loads(response.content)
    except orjson.JSONDecodeError:
        return {}
    return body if isinstance(body, dict) else {}


async def _fetch(http: SourceClient, method: str, url: str, **kw: Any) -> dict[str, Any]:
    body: dict[str, Any] = await http.fetch(method, url, **kw)
    return body
