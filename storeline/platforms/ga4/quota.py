"""Pacing on GA4's `propertyQuota` (docs/platforms/ga4.md, item 7).

Every answer to a request with `returnPropertyQuota: true` says what each bucket has left. A
bucket that is present with `remaining` missing has 0 left (proto3 leaves zeros out), and
`remaining` can be negative (a request is refused only once a bucket is empty, so the last one
overdraws it). Once any refusing bucket is at or below zero, every request to the property is
refused until that bucket's window turns: the top of the hour for the hourly buckets, midnight
Pacific for the daily one. So the pacer stops *before* the refusal and waits for the window, or,
if that is longer than the job may wait, ends the job with a TransientError whose retry_after is
the window. With few requests' worth of tokens left, requests spread over the rest of the window.
Decisions come from the numbers, never from a 429's message text (its wording is not stable).

One pacer per property, shared by every job of this worker process (`QuotaBook`): the buckets
are the property's (and the Cloud project's share of it), not one job's.
"""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import orjson

from storeline.worker.errors import TransientError

PACIFIC = ZoneInfo("America/Los_Angeles")
HOURLY = ("tokensPerHour", "tokensPerProjectPerHour", "potentiallyThresholdedRequestsPerHour")
DAILY = ("tokensPerDay",)
TOKEN_BUCKETS = ("tokensPerHour", "tokensPerProjectPerHour", "tokensPerDay")


def window_seconds(bucket: str, now: datetime) -> float:
    """Seconds until `bucket` refills: the next hour, or the next midnight Pacific."""
    if bucket in DAILY:
        local = now.astimezone(PACIFIC)
        midnight = datetime.combine(local.date() + timedelta(days=1), datetime.min.time(), PACIFIC)
        return max((midnight - local).total_seconds(), 1.0)
    hour = now.replace(minute=0, second=0, microsecond=0) + timedelta(hours=1)
    return max((hour - now).total_seconds(), 1.0)


class QuotaPacer:
    def __init__(self, *, max_wait: float, slow_requests: int) -> None:
        self.max_wait = max_wait
        self.slow_requests = slow_requests
        self.blocked_until = 0.0  # monotonic: a bucket is empty until then
        self.blocked_bucket: str | None = None
        self.spread = 0.0  # seconds between requests while few tokens are left
        self.last: dict[str, Any] = {}  # the last propertyQuota seen
        self.tokens_consumed = 0
        self._lock = threading.Lock()

    def observe(self, response: httpx.Response) -> None:
        if response.status_code != 200:
            return
        try:
            quota = orjson.loads(response.content).get("propertyQuota")
        except (orjson.JSONDecodeError, AttributeError):
            return
        if not isinstance(quota, dict):
            return
        now = datetime.now(UTC)
        with self._lock:
            self.last = quota
            consumed = _int((quota.get("tokensPerHour") or {}).get("consumed"))
            self.tokens_consumed += consumed
            blocked: tuple[float, str] | None = None
            spread = 0.0
            for bucket in (*HOURLY, *DAILY):
                status = quota.get(bucket)
                if not isinstance(status, dict):
                    continue
                remaining = _int(status.get("remaining"))  # absent means 0
                window = window_seconds(bucket, now)
                if remaining <= 0:
                    if blocked is None or window > blocked[0]:
                        blocked = (window, bucket)
                elif bucket in TOKEN_BUCKETS and consumed:
                    left = remaining / consumed
                    if left < self.slow_requests:
                        spread = max(spread, window / max(left, 1.0))
            if blocked is not None:
                self.blocked_until = time.monotonic() + blocked[0]
                self.blocked_bucket = blocked[1]
            else:
                self.blocked_until, self.blocked_bucket = 0.0, None
            self.spread = spread

    def window(self) -> float | None:
        """Seconds until the exhausted bucket refills, if an answer showed one (else None)."""
        left = self.blocked_until - time.monotonic()
        return left if self.blocked_bucket is not None and left > 0 else None

    def delay(self) -> float:
        """Wait before the next request; raises when the wait is longer than a job may wait."""
        window = self.window()
        if window is not None:
            if window > self.max_wait:
                raise TransientError(
                    f"GA4 quota '{self.blocked_bucket}' of this property is used up",
                    code="ga4_quota_exhausted",
                    retry_after=window,
                )
            return window
        spread, self.spread = self.spread, 0.0  # taken once per answer; callers re-check
        return spread

    def exhausted_message(self) -> str:
        bucket = self.blocked_bucket or "a quota"
        return f"GA4 refused the request: {bucket} of this property is used up"


class QuotaBook:
    """The pacers of one worker process, one per property."""

    def __init__(self) -> None:
        self._pacers: dict[str, QuotaPacer] = {}
        self._lock = threading.Lock()

    def pacer(self, property_id: str, *, max_wait: float, slow_requests: int) -> QuotaPacer:
        with self._lock:
            found = self._pacers.get(property_id)
            if found is None:
                found = QuotaPacer(max_wait=max_wait, slow_requests=slow_requests)
                self._pacers[property_id] = found
            return found


BOOK = QuotaBook()


def _int(value: Any) -> int:
    try:
        return int(value) if value is not None else 0
    except (TypeError, ValueError):
        return 0
