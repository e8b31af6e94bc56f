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

The buckets are the property's (and the Cloud project's share of it), not one job's: what an
answer says is published to a fleet budget (storeline/worker/kit/budget.py) keyed by the OAuth
client (its Cloud project) and the property, so every worker that reads the property waits for
an exhausted bucket, and spreads its requests, together.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import asyncpg
import httpx
import orjson

from storeline.worker.errors import TransientError
from storeline.worker.kit.budget import FleetBudget

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
    def __init__(self, budget: FleetBudget, *, max_wait: float, slow_requests: int) -> None:
        self.budget = budget
        self.max_wait = max_wait
        self.slow_requests = slow_requests
        self.blocked_until = 0.0  # monotonic: a bucket this process saw is empty until then
        self.blocked_bucket: str | None = None
        self.last: dict[str, Any] = {}  # the last propertyQuota seen
        self.tokens_consumed = 0

    async def observe(self, response: httpx.Response, key: str | None) -> None:
        if response.status_code != 200:
            return
        try:
            quota = orjson.loads(response.content).get("propertyQuota")
        except (orjson.JSONDecodeError, AttributeError):
            return
        if not isinstance(quota, dict):
            return
        now = datetime.now(UTC)
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
            await self.budget.signal(pause=blocked[0], floor=spread)
        else:
            self.blocked_until, self.blocked_bucket = 0.0, None
            await self.budget.signal(floor=spread)

    def window(self) -> float | None:
        """Seconds until the exhausted bucket refills, if an answer showed one (else None)."""
        left = self.blocked_until - time.monotonic()
        return left if self.blocked_bucket is not None and left > 0 else None

    async def delay(self, key: str | None) -> float:
        """Wait before the next request; raises when the wait is longer than a job may wait
        (an exhausted bucket: this process's answer or another worker's)."""
        wait = await self.budget.take()
        if wait > self.max_wait:
            bucket = self.blocked_bucket
            raise TransientError(
                f"GA4 quota '{bucket}' of this property is used up"
                if bucket
                else "a GA4 quota of this property is used up (another worker's answer said so)",
                code="ga4_quota_exhausted",
                retry_after=wait,
            )
        return wait

    def exhausted_message(self) -> str:
        bucket = self.blocked_bucket or "a quota"
        return f"GA4 refused the request: {bucket} of this property is used up"


def property_budget(pool: asyncpg.Pool, client_id: str, property_id: str) -> FleetBudget:
    """The fleet budget of one property as one OAuth client (Cloud project) sees it."""
    return FleetBudget(pool, f"ga4:{client_id}:{property_id}")


def _int(value: Any) -> int:
    try:
        return int(value) if value is not None else 0
    except (TypeError, ValueError):
        return 0
