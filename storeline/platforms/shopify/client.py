"""The Shopify GraphQL Admin API over httpx: one place that turns every answer into data or a
`worker.errors` exception with a stable code.

Mapping (the engine decides retry vs fail from the class):
  200 + data, no errors            → data
  THROTTLED (200 or 429)           → wait for the bucket (throttleStatus / Retry-After), resend
  5xx, timeouts, broken connection,
  malformed body, INTERNAL_SERVER_ERROR → resend with backoff, then TransientError
  401, 403, ACCESS_DENIED          → CredentialError (the credential is marked NEEDS_REAUTH)
  402 / 404 / 423, other 4xx,
  GraphQL errors, MAX_COST_EXCEEDED → TerminalError
Messages are written here, never copied from bodies or exceptions, so a token cannot leak into
`sync_jobs.error`; GraphQL error texts are passed through `_scrub` first.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable, Mapping
from dataclasses import dataclass
from typing import Any

import httpx
import orjson

from storeline.platforms.shopify.settings import ShopifySettings
from storeline.platforms.shopify.throttle import Bucket
from storeline.worker.errors import CredentialError, TerminalError, TransientError
from storeline.worker.kit.http import Retry, RetryPolicy, SourceClient, Throttle, retry_after

_TERMINAL_STATUS = {
    402: ("shopify_payment_required", "the shop is frozen or its plan lapsed (402)"),
    404: ("shopify_not_found", "the shop or API version was not found (404)"),
    423: ("shopify_shop_locked", "the shop is locked (423)"),
}


@dataclass(frozen=True)
class GraphQLResult:
    data: Mapping[str, Any]
    cost: Mapping[str, Any] | None


class BucketPacer:
    """The kit's `Pacer` over the shop's leaky bucket: the request key is the GraphQL document,
    whose last requested cost says how much of the bucket the call will take. Shopify's limit
    is per app and shop, and one shop's jobs run one at a time, so the bucket lives with the
    client (a fleet budget would add a round trip per call and share nothing)."""

    def __init__(self, bucket: Bucket) -> None:
        self.bucket = bucket

    async def delay(self, key: str | None) -> float:
        document = key or ""
        pause = self.bucket.delay_for(document)
        while pause:  # callers share the bucket: re-check on waking
            await asyncio.sleep(pause)
            pause = self.bucket.delay_for(document)
        self.bucket.reserve(document)
        return 0.0  # waited here already; the slot is taken

    async def observe(self, response: httpx.Response, key: str | None) -> None:
        """The cost comes in the body: `classify` reads it there (one parse per answer)."""


class ShopifyClient:
    """One shop's GraphQL endpoint and bulk downloads; use as `async with ShopifyClient(...)`."""

    def __init__(
        self,
        shop_id: str,
        token: str,
        settings: ShopifySettings,
        *,
        bucket: Bucket | None = None,
        on_progress: Callable[[], None] | None = None,
    ) -> None:
        self.shop_id = shop_id
        self.settings = settings
        self.bucket = bucket or Bucket()
        self.points = 0.0  # actual query cost spent: what the shop's rate limit is paid in
        self._token = token
        self._url = settings.graphql_url(shop_id)
        self.policy = RetryPolicy(
            max_retries=settings.max_retries,
            backoff_seconds=settings.retry_backoff_seconds,
            max_throttle_wait=settings.max_throttle_wait_seconds,
        )
        self.http = SourceClient(
            classify=_unused,
            policy=self.policy,
            timeout=settings.request_timeout_seconds,
            headers={
                "X-Shopify-Access-Token": token,
                "Content-Type": "application/json",
                "Accept": "application/json",
            },
            pacer=BucketPacer(self.bucket),
            # Called on every answer and every downloaded chunk: the engine's stall watchdog.
            on_progress=on_progress,
            secrets=(token,),
            code_prefix="shopify_",
            source_name="Shopify",
        )
        self._on_progress = on_progress or _nothing
        # Bulk result URLs are pre-signed storage links: the access token is never sent there.
        self._download = httpx.AsyncClient(
            timeout=httpx.Timeout(settings.download_timeout_seconds), follow_redirects=True
        )

    async def __aenter__(self) -> ShopifyClient:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        await self.http.__aexit__()
        await self._download.aclose()

    @property
    def requests(self) -> int:
        return self.http.stats.requests

    @property
    def throttled(self) -> int:
        return self.http.stats.throttled

    async def graphql(
        self, document: str, variables: Mapping[str, Any] | None = None
    ) -> GraphQLResult:
        """Run one query or mutation, pacing and retrying as the module docstring says."""
        body = orjson.dumps({"query": document, "variables": dict(variables or {})})
        result: GraphQLResult = await self.http.fetch(
            "POST",
            self._url,
            content=body,
            key=document,
            classify=lambda response: self._classify(response, document),
        )
        return result

    def _classify(self, response: httpx.Response, document: str) -> GraphQLResult:
        status = response.status_code
        if status == 401:
            raise CredentialError(
                "Shopify rejected the access token (401): reconnect the store",
                code="shopify_unauthorized",
            )
        if status == 403:
            raise CredentialError(
                "Shopify refused access (403): the app lacks a scope or was uninstalled",
                code="shopify_forbidden",
            )
        if status == 429:
            cost = _cost(_json_or_none(response.content))
            delay = retry_after(response) or self.bucket.throttled_delay(cost, document)
            raise Throttle(*_THROTTLED, delay)
        if status >= 500:
            raise Retry("shopify_unavailable", f"Shopify answered {status}", retry_after(response))
        if status in _TERMINAL_STATUS:
            code, text = _TERMINAL_STATUS[status]
            raise TerminalError(f"Shopify: {text}", code=code)
        if status != 200:
            raise TerminalError(f"Shopify answered {status}", code="shopify_bad_request")
        payload = _json_or_none(response.content)
        if not isinstance(payload, dict):
            raise Retry("shopify_malformed_response", "Shopify sent a malformed response")
        cost = _cost(payload)
        errors = payload.get("errors")
        if errors:
            self._raise_for_errors(errors, cost, document)
        data = payload.get("data")
        if not isinstance(data, dict):
            raise Retry("shopify_malformed_response", "Shopify sent a response without data")
        self.bucket.observe(cost, document)
        actual = cost.get("actualQueryCost") if cost else None
        self.points += float(actual) if isinstance(actual, int | float) else 0.0
        return GraphQLResult(data, cost)

    def _raise_for_errors(self, errors: Any, cost: Mapping[str, Any] | None, document: str) -> None:
        items = errors if isinstance(errors, list) else [{"message": str(errors)}]
        codes = {_error_code(e) for e in items}
        if "THROTTLED" in codes:
            raise Throttle(*_THROTTLED, self.bucket.throttled_delay(cost, document))
        self.bucket.observe(cost, document)
        if "ACCESS_DENIED" in codes:
            raise CredentialError(
                "Shopify denied access to the data: the app lacks a required scope",
                code="shopify_access_denied",
            )
        if "INTERNAL_SERVER_ERROR" in codes:
            raise Retry("shopify_internal_error", "Shopify reported an internal error")
        if "MAX_COST_EXCEEDED" in codes:
            raise TerminalError(
                "a Shopify query exceeded the maximum cost", code="shopify_query_cost"
            )
        first = items[0] if items and isinstance(items[0], Mapping) else {}
        message = self._scrub(str(first.get("message", "unknown error")))[:300]
        raise TerminalError(f"Shopify GraphQL error: {message}", code="shopify_graphql_error")

    def _scrub(self, text: str) -> str:
        return self.http.scrub(text)

    async def download_lines(self, url: str) -> AsyncIterator[bytes]:
        """The non-empty lines of a bulk result file, streamed (never whole in memory).

        A connection that breaks mid-file is resumed from the last complete line, with a Range
        request when the server honours it (206) or by skipping the bytes already read (200).
        """
        offset = 0
        failures = 0
        while True:
            headers = {"Range": f"bytes={offset}-"} if offset else {}
            try:
                async with self._download.stream("GET", url, headers=headers) as response:
                    status = response.status_code
                    if status >= 500:
                        raise Retry("shopify_download_failed", f"bulk file download got {status}")
                    if status not in (200, 206):
                        raise TransientError(
                            f"the bulk result file is no longer available ({status})",
                            code="shopify_bulk_url_expired",
                        )
                    skip = offset if status == 200 else 0
                    pending = bytearray()
                    async for chunk in response.aiter_bytes():
                        self._on_progress()
                        if skip:
                            if len(chunk) <= skip:
                                skip -= len(chunk)
                                continue
                            chunk = chunk[skip:]
                            skip = 0
                        start = 0
                        while (newline := chunk.find(b"\n", start)) != -1:
                            if pending:
                                pending += chunk[start:newline]
                                line = bytes(pending)
                                pending.clear()
                            else:
                                line = chunk[start:newline]
                            offset += len(line) + 1
                            start = newline + 1
                            if line.strip():
                                yield line
                        pending += chunk[start:]
                    if pending.strip():
                        offset += len(pending)
                        yield bytes(pending)
                    return
            except (httpx.TransportError, Retry) as exc:
                failures += 1
                if failures > self.settings.max_retries:
                    code = exc.code if isinstance(exc, Retry) else "shopify_download_failed"
                    raise TransientError(
                        "downloading the bulk result file kept failing", code=code
                    ) from None
                await asyncio.sleep(self.policy.backoff(failures, None))


_THROTTLED = ("shopify_throttled", "Shopify kept throttling this shop's API calls")


def _nothing() -> None:
    return None


def _unused(response: httpx.Response) -> None:
    """Every call passes its own classifier (it needs the document); never reached."""
    raise AssertionError("ShopifyClient.graphql passes a classifier per call")


def _json_or_none(content: bytes) -> Any:
    try:
        return orjson.loads(content)
    except orjson.JSONDecodeError:
        return None


def _cost(payload: Any) -> Mapping[str, Any] | None:
    if not isinstance(payload, dict):
        return None
    extensions = payload.get("extensions")
    cost = extensions.get("cost") if isinstance(extensions, dict) else None
    return cost if isinstance(cost, dict) else None


def _error_code(error: Any) -> str | None:
    if not isinstance(error, Mapping):
        return None
    extensions = error.get("extensions")
    code = extensions.get("code") if isinstance(extensions, Mapping) else None
    if code is None and str(error.get("message", "")).lower() == "throttled":
        return "THROTTLED"
    return str(code) if code is not None else None
