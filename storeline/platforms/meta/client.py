"""The Meta Graph / Marketing API through the kit's client: what each answer means, and pacing
from the usage headers.

Errors are classified by `error.code`, `error_subcode` and `is_transient` first, the HTTP status
last: Meta sends `(#2) Service temporarily unavailable` as HTTP 400 with `is_transient`, "Please
reduce the amount of data" (code 1) as 500, and insights timeouts as 100/1504018 or 2/1504038
(docs/platforms/meta.md).
  190, 102, 463, 467     → CredentialError (token expired or invalid: reconnect)
  10, 200-299            → CredentialError (permission on the ad account missing)
  4, 17, 32, 613, 80000-80014 → throttled: wait for the window the usage headers name
  1, 100/1504018, 2/1504038 → InsightsTooLarge: read a smaller range or as an async report run
  2, is_transient, 5xx, malformed → resend with backoff
  anything else          → TerminalError (the message is scrubbed of the token)
The token travels in the Authorization header, never in a URL; paging follows the `after`
cursor with our own parameters instead of Meta's `next` URL (which would carry the token).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Mapping
from typing import Any

import asyncpg
import httpx
import orjson

from storeline.platforms.meta.settings import MetaSettings
from storeline.platforms.meta.usage import UsagePacer
from storeline.worker.errors import CredentialError, TerminalError, TransientError
from storeline.worker.kit.http import Retry, RetryPolicy, SourceClient, Throttle, retry_after

_TOKEN_CODES = {190, 102, 463, 467}
_THROTTLE_CODES = {4, 17, 32, 613, *range(80000, 80015)}
_TIMEOUT_SUBCODES = {1504018, 1504038}


class InsightsTooLarge(TransientError):
    """Meta could not answer this synchronous insights read in time: ask for less, or async."""


class MetaClient:
    def __init__(
        self,
        token: str,
        settings: MetaSettings,
        pool: asyncpg.Pool,
        *,
        on_progress: Callable[[], None] | None = None,
    ) -> None:
        self.settings = settings
        self.pacer = UsagePacer(settings, pool)
        self.http = SourceClient(
            classify=self._classify,
            policy=RetryPolicy(
                max_retries=settings.max_retries,
                backoff_seconds=settings.retry_backoff_seconds,
                max_throttle_wait=settings.max_throttle_wait_seconds,
            ),
            timeout=settings.request_timeout_seconds,
            headers={"Authorization": f"Bearer {token}", "Accept": "application/json"},
            pacer=self.pacer,
            on_progress=on_progress,
            source_name="Meta",
            secrets=(token,),
        )

    async def __aenter__(self) -> MetaClient:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.http.__aexit__(*exc)

    async def get(self, path: str, params: Mapping[str, Any] | None = None) -> dict[str, Any]:
        url = self._url(path)
        body: dict[str, Any] = await self.http.fetch("GET", url, params=params, key=_account(path))
        return body

    async def post(self, path: str, data: Mapping[str, Any]) -> dict[str, Any]:
        url = self._url(path)
        body: dict[str, Any] = await self.http.fetch("POST", url, data=data, key=_account(path))
        return body

    async def rows(self, path: str, params: Mapping[str, Any]) -> AsyncIterator[dict[str, Any]]:
        """Every `data` row of a paged edge, following the `after` cursor."""
        query = dict(params)
        while True:
            page = await self.get(path, query)
            data = page.get("data")
            if not isinstance(data, list):
                raise TransientError("Meta sent a page without data", code="meta_malformed")
            for row in data:
                if isinstance(row, dict):
                    yield row
            paging = page.get("paging") or {}
            after = (paging.get("cursors") or {}).get("after")
            if not paging.get("next") or not after:
                return
            query["after"] = after

    def _url(self, path: str) -> str:
        return f"{self.settings.graph_url}/{path.lstrip('/')}"

    def _classify(self, response: httpx.Response) -> dict[str, Any]:
        """The answer's JSON object, or the exception the module docstring maps it to."""
        try:
            payload = orjson.loads(response.content)
        except orjson.JSONDecodeError:
            payload = None
        error = payload.get("error") if isinstance(payload, dict) else None
        if response.status_code == 200 and isinstance(payload, dict) and error is None:
            return payload
        if not isinstance(error, dict):
            if response.status_code >= 500 or response.status_code == 200:
                raise Retry("meta_unavailable", f"Meta answered {response.status_code}")
            raise TerminalError(f"Meta answered {response.status_code}", code="meta_http_error")
        code = _int(error.get("code"))
        subcode = _int(error.get("error_subcode"))
        message = self.http.scrub(str(error.get("message", "")))[:300]
        if code in _TOKEN_CODES or subcode in (458, 459, 460, 463, 464, 467):
            raise CredentialError(
                "Meta rejected the access token: reconnect Meta Ads", code="meta_token_invalid"
            )
        if code == 10 or (code is not None and 200 <= code <= 299):
            raise CredentialError(
                f"Meta refused access to the ad account: {message}", code="meta_permission"
            )
        if code in _THROTTLE_CODES:
            delay = max(self.pacer.regain_seconds(), retry_after(response) or 0.0)
            raise Throttle(
                "meta_throttled",
                "Meta is rate limiting this ad account",
                delay or self.settings.usage_pause_seconds,
            )
        if code == 1 or subcode in _TIMEOUT_SUBCODES:
            raise InsightsTooLarge(
                "Meta could not compute the insights in time", code="meta_insights_too_large"
            )
        if code == 2 or error.get("is_transient") is True or response.status_code >= 500:
            raise Retry("meta_unavailable", "Meta is temporarily unavailable")
        raise TerminalError(f"Meta refused the request: {message}", code="meta_bad_request")


def _account(path: str) -> str | None:
    """The ad account a request reads (`act_<id>/…`): its usage headers pace that account."""
    head = path.lstrip("/").split("/", 1)[0]
    return head if head.startswith("act_") else None


def _int(value: Any) -> int | None:
    try:
        return int(value) if value is not None else None
    except (TypeError, ValueError):
        return None
