"""The GA4 Data API (`properties/{id}:runReport`) through the kit's client: what each answer means,
OAuth per attempt (auth.py) and pacing on the property's quota (quota.py).

  401                       → the auth flow already retried with a fresh token: CredentialError
  403                       → CredentialError (no access to the property: reconnect or re-grant)
  429 RESOURCE_EXHAUSTED    → Throttle until the exhausted bucket's window (from propertyQuota;
                              a short wait when no answer named one, e.g. concurrent requests)
  5xx, malformed 200        → resend with backoff
  other 4xx                 → TerminalError (a request the API will never accept)
Messages are Google's `error.message`, scrubbed and cut; tokens never appear in them.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from typing import Any

import asyncpg
import httpx
import orjson

from storeline.platforms.ga4.auth import GoogleAuth
from storeline.platforms.ga4.quota import QuotaPacer, property_budget
from storeline.platforms.ga4.settings import Ga4Settings
from storeline.worker.errors import CredentialError, TerminalError
from storeline.worker.kit.http import (
    CallStats,
    Retry,
    RetryPolicy,
    SourceClient,
    Throttle,
    retry_after,
)


@dataclass(frozen=True)
class Page:
    """One runReport answer: parsed for paging, raw bytes for staging."""

    request: dict[str, Any]
    body: dict[str, Any]
    raw: bytes


class Ga4Client:
    def __init__(
        self,
        secrets: dict[str, str],
        property_id: str,
        settings: Ga4Settings,
        pool: asyncpg.Pool,
        *,
        on_progress: Callable[[], None] | None = None,
    ) -> None:
        self.settings = settings
        self.property_id = property_id
        self.auth = GoogleAuth(
            token_url=settings.token_url,
            client_id=secrets["client_id"],
            client_secret=secrets["client_secret"],
            refresh_token=secrets["refresh_token"],
            leeway=settings.token_leeway_seconds,
            timeout=settings.request_timeout_seconds,
        )
        self.pacer = QuotaPacer(
            property_budget(pool, secrets["client_id"], property_id),
            max_wait=settings.max_quota_wait_seconds,
            slow_requests=settings.quota_slow_requests,
        )
        self.http = SourceClient(
            classify=self._classify,
            policy=RetryPolicy(
                max_retries=settings.max_retries,
                backoff_seconds=settings.retry_backoff_seconds,
                max_throttle_wait=settings.max_quota_wait_seconds,
            ),
            timeout=settings.request_timeout_seconds,
            headers={"Accept": "application/json"},
            pacer=self.pacer,
            on_progress=on_progress,
            source_name="GA4",
            secrets=(secrets["client_secret"], secrets["refresh_token"]),
            auth=self.auth,
        )
        self._url = f"{settings.api_url}/properties/{property_id}:runReport"

    async def __aenter__(self) -> Ga4Client:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.http.__aexit__(*exc)
        await self.auth.aclose()

    @property
    def stats(self) -> CallStats:
        return self.http.stats

    async def report(self, body: dict[str, Any]) -> Page:
        response, parsed = await self.http.exchange("POST", self._url, json=body)
        return Page(body, parsed, response.content)

    async def pages(self, body: dict[str, Any]) -> AsyncIterator[Page]:
        """Every page of a report: limit/offset until `rowCount` rows were seen (no `rowCount`
        means no rows at all)."""
        offset = 0
        while True:
            page = await self.report({**body, "limit": self.settings.page_size, "offset": offset})
            yield page
            rows = page.body.get("rows") or []
            offset += len(rows)
            if not rows or offset >= int(page.body.get("rowCount") or 0):
                return

    def _classify(self, response: httpx.Response) -> dict[str, Any]:
        """The report's JSON object, or the exception GA4's answer means."""
        status = response.status_code
        try:
            payload = orjson.loads(response.content)
        except orjson.JSONDecodeError:
            payload = None
        if status == 200:
            if isinstance(payload, dict):
                return payload
            raise Retry("ga4_malformed", "GA4 sent a malformed report")
        error = payload.get("error") if isinstance(payload, dict) else None
        message = ""
        if isinstance(error, dict):
            message = self.http.scrub(str(error.get("message", "")))[:300]
        if status == 401:
            raise CredentialError(
                "Google rejected the GA4 access token: reconnect Google Analytics",
                code="ga4_unauthenticated",
            )
        if status == 403:
            raise CredentialError(
                f"Google refused access to GA4 property {self.property_id}: {message}",
                code="ga4_permission",
            )
        if status == 429:
            window = self.pacer.window()
            raise Throttle(
                "ga4_quota_exhausted",
                self.pacer.exhausted_message(),
                window or retry_after(response) or self.settings.quota_retry_seconds,
            )
        if status >= 500:
            raise Retry("ga4_unavailable", f"GA4 answered {status}", retry_after(response))
        raise TerminalError(f"GA4 refused the report request: {message}", code="ga4_bad_request")
