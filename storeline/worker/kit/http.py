"""An async HTTP client every connector shares: retry with backoff, throttling waits, pacing
hooks, progress for the engine's stall watchdog, and errors the engine understands.

A platform says what an answer means in one function, `classify(response)`: return to accept
it, raise `Retry` (worth resending: 5xx, a transient error body), `Throttle` (wait and resend:
rate limits) or a `worker.errors.SyncError` (credential, terminal). Timeouts and broken
connections are `Retry`. The loop here does the rest the same way for every source:

- `Retry`: resend after capped exponential backoff with jitter (a server's Retry-After wins),
  at most `max_retries` times, then `TransientError` with the platform's code;
- `Throttle`: wait the given delay and resend, up to `max_throttle_wait` seconds in total per
  call, then `TransientError` carrying `retry_after` so the engine backs off the whole job;
- a `Pacer` (optional) is asked before every request how long to wait, and told every answer,
  so usage headers or leaky buckets pace calls before the source has to refuse them. Pacers
  are async so one can keep its state where a whole fleet shares it (`kit/budget.py`); a
  request's `key` (a GraphQL document, say) tells a pacer what the request will cost.

`classify` may return what it parsed (a JSON body); `fetch` hands that back, so a body is
decoded once per answer.

Messages come from the platform's classifier, never from bodies or exceptions, so a token
cannot reach a job's `error`; `scrub` removes secrets from any text a classifier passes on.
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Protocol

import httpx

from storeline.worker import observe
from storeline.worker.errors import TransientError


class Retry(Exception):
    """A failure worth resending; becomes `TransientError(message, code)` if retries run out."""

    def __init__(self, code: str, message: str, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.retry_after = retry_after


class Throttle(Exception):
    """The source asked us to slow down: wait `delay` seconds, then resend."""

    def __init__(self, code: str, message: str, delay: float) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.delay = delay


class Pacer(Protocol):
    async def delay(self, key: str | None) -> float:
        """Seconds to wait before sending the request; the pacer has counted it as sent at
        that time (its slot is reserved: the caller sleeps and sends without asking again)."""
        ...

    async def observe(self, response: httpx.Response, key: str | None) -> None:
        """Learn from an answer (usage headers, cost fields)."""
        ...


Classify = Callable[[httpx.Response], Any]


@dataclass(frozen=True)
class RetryPolicy:
    max_retries: int = 4
    backoff_seconds: float = 0.5
    backoff_cap_seconds: float = 60.0
    max_throttle_wait: float = 300.0

    def backoff(self, failures: int, retry_after: float | None) -> float:
        ceiling = min(self.backoff_cap_seconds, self.backoff_seconds * 2.0 ** (failures - 1))
        return max(retry_after or 0.0, ceiling * (0.5 + random.random() / 2))


@dataclass
class CallStats:
    requests: int = 0
    retries: int = 0
    throttled: int = 0
    throttle_wait: float = 0.0
    paced_wait: float = 0.0


class SourceClient:
    """One source's httpx client with the loop above; use as `async with SourceClient(...)`."""

    def __init__(
        self,
        *,
        classify: Classify,
        policy: RetryPolicy,
        timeout: float,
        headers: Mapping[str, str] | None = None,
        pacer: Pacer | None = None,
        on_progress: Callable[[], None] | None = None,
        secrets: tuple[str, ...] = (),
        auth: httpx.Auth | None = None,
        code_prefix: str = "",
        source_name: str = "the source",
    ) -> None:
        self.classify = classify
        # Names a failure the platform's way on the job: `shopify_timeout`, "Shopify did not …".
        self._prefix = code_prefix
        self._source = source_name
        self.policy = policy
        self.pacer = pacer
        self.stats = CallStats()
        self._on_progress = on_progress or (lambda: None)
        self._secrets = tuple(s for s in secrets if s)
        self._http = httpx.AsyncClient(
            timeout=httpx.Timeout(timeout),
            headers=dict(headers or {}),
            follow_redirects=False,
            auth=auth,  # per-attempt credentials (an OAuth access token refreshed in the flow)
        )

    async def __aenter__(self) -> SourceClient:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self._http.aclose()

    def set_header(self, name: str, value: str, *, secret: str | None = None) -> None:
        """Change a header for the requests that follow (a refreshed access token); `secret`
        joins the values `scrub` removes."""
        self._http.headers[name] = value
        if secret:
            self._secrets = (*self._secrets, secret)

    def scrub(self, text: str) -> str:
        for secret in self._secrets:
            text = text.replace(secret, "[redacted]")
        return text

    async def request(self, method: str, url: str, **options: Any) -> httpx.Response:
        """Send until the classifier accepts the answer; raise as the module docstring says."""
        response, _ = await self.exchange(method, url, **options)
        return response

    async def fetch(self, method: str, url: str, **options: Any) -> Any:
        """As `request`, returning what the classifier returned (the parsed body)."""
        _, parsed = await self.exchange(method, url, **options)
        return parsed

    async def exchange(
        self,
        method: str,
        url: str,
        *,
        params: Mapping[str, Any] | None = None,
        data: Mapping[str, Any] | None = None,
        json: Any = None,
        content: bytes | None = None,
        headers: Mapping[str, str] | None = None,
        key: str | None = None,
        classify: Classify | None = None,
    ) -> tuple[httpx.Response, Any]:
        """The accepted answer and what the classifier (this call's, or the client's) returned;
        `key` is passed to the pacer."""
        classify = classify or self.classify
        failures = 0
        waited = 0.0
        while True:
            await self._pace(key)
            self.stats.requests += 1
            observe.source_request()
            try:
                response = await self._http.request(
                    method,
                    url,
                    params=params,
                    data=data,
                    json=json,
                    content=content,
                    headers=headers,
                )
                self._on_progress()
                if self.pacer is not None:
                    await self.pacer.observe(response, key)
                return response, classify(response)
            except httpx.TimeoutException:
                error: Retry | Throttle = Retry(
                    f"{self._prefix}timeout", f"{self._source} did not answer in time"
                )
            except httpx.TransportError:
                error = Retry(f"{self._prefix}connection", f"could not reach {self._source}")
            except (Retry, Throttle) as raised:
                error = raised
            if isinstance(error, Throttle):
                self.stats.throttled += 1
                observe.source_request(throttled=True)
                waited += error.delay
                if waited > self.policy.max_throttle_wait:
                    raise TransientError(
                        error.message, code=error.code, retry_after=error.delay
                    ) from None
                self.stats.throttle_wait += error.delay
                await asyncio.sleep(error.delay)
                continue
            failures += 1
            if failures > self.policy.max_retries:
                raise TransientError(
                    error.message, code=error.code, retry_after=error.retry_after
                ) from None
            self.stats.retries += 1
            await asyncio.sleep(self.policy.backoff(failures, error.retry_after))

    async def _pace(self, key: str | None) -> None:
        if self.pacer is None:
            return
        pause = await self.pacer.delay(key)
        if pause > 0:
            self.stats.paced_wait += pause
            await asyncio.sleep(pause)


def retry_after(response: httpx.Response) -> float | None:
    """Retry-After in seconds (the delta form; the HTTP-date form is rare from APIs)."""
    value = response.headers.get("retry-after")
    try:
        return max(float(value), 0.0) if value is not None else None
    except ValueError:
        return None
