"""Per-property Core quota, charged per request and reported as `propertyQuota`.

Hourly buckets follow the sandbox clock; the daily bucket resets at midnight Pacific, as Google's
does. A request that would overdraw a bucket is refused with 429 RESOURCE_EXHAUSTED before it
runs; an exhausted property stays refused until its bucket resets (advance the clock).
"""

from __future__ import annotations

import threading
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from sandbox.ga4.catalog import QUOTA_LIMITS
from sandbox.ga4.errors import ApiError

PACIFIC = ZoneInfo("America/Los_Angeles")
EXHAUSTED = {
    "tokensPerDay": "Exhausted property tokens per day quota.",
    "tokensPerHour": "Exhausted property tokens per hour quota.",
    "tokensPerProjectPerHour": "Exhausted property tokens per project per hour quota.",
    "concurrentRequests": "Exhausted concurrent requests quota.",
}
HINT = (
    " To learn more about quotas, see "
    "https://developers.google.com/analytics/devguides/reporting/data/v1/quotas."
)


def request_cost(days: int, rows: int, dimensions: int) -> int:
    """Tokens a report costs: grows with the date span, the rows scanned and the dimensions."""
    return 1 + days // 60 + rows // 5000 + max(0, dimensions - 3)


@dataclass
class PropertyQuota:
    _used: dict[tuple[str, str, str], int] = field(default_factory=lambda: defaultdict(int))
    _in_flight: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    @staticmethod
    def _buckets(now: datetime) -> dict[str, str]:
        hour = now.strftime("%Y-%m-%dT%H")
        return {
            "tokensPerDay": now.astimezone(PACIFIC).date().isoformat(),
            "tokensPerHour": hour,
            "tokensPerProjectPerHour": hour,
            "serverErrorsPerProjectPerHour": hour,
            "potentiallyThresholdedRequestsPerHour": hour,
        }

    def enter(self, prop: str) -> None:
        """Count a request in flight, refusing it when the concurrency quota is used up."""
        with self._lock:
            if self._in_flight[prop] >= QUOTA_LIMITS["concurrentRequests"]:
                raise ApiError(429, EXHAUSTED["concurrentRequests"] + HINT)
            self._in_flight[prop] += 1

    def leave(self, prop: str) -> None:
        with self._lock:
            self._in_flight[prop] -= 1

    def charge(self, prop: str, now: datetime, tokens: int) -> None:
        """Deduct `tokens` from every token bucket, or refuse when one cannot cover them."""
        buckets = self._buckets(now)
        with self._lock:
            for name in ("tokensPerDay", "tokensPerHour", "tokensPerProjectPerHour"):
                if self._used[(prop, name, buckets[name])] + tokens > QUOTA_LIMITS[name]:
                    raise ApiError(429, EXHAUSTED[name] + HINT)
            for name in ("tokensPerDay", "tokensPerHour", "tokensPerProjectPerHour"):
                self._used[(prop, name, buckets[name])] += tokens

    def exhaust(self, prop: str, now: datetime, name: str = "tokensPerHour") -> None:
        """Use up a whole bucket (the throttle fault's `exhaust` simulates a busy property)."""
        if name not in ("tokensPerDay", "tokensPerHour", "tokensPerProjectPerHour"):
            return
        with self._lock:
            self._used[(prop, name, self._buckets(now)[name])] = QUOTA_LIMITS[name]

    def server_error(self, prop: str, now: datetime) -> None:
        with self._lock:
            key = (
                prop,
                "serverErrorsPerProjectPerHour",
                self._buckets(now)["serverErrorsPerProjectPerHour"],
            )
            self._used[key] += 1

    def report(self, prop: str, now: datetime, consumed_now: int) -> dict[str, Any]:
        """The `propertyQuota` object: what this request consumed and what is left."""
        buckets = self._buckets(now)
        out: dict[str, Any] = {}
        with self._lock:
            for name in (
                "tokensPerDay",
                "tokensPerHour",
                "concurrentRequests",
                "serverErrorsPerProjectPerHour",
                "potentiallyThresholdedRequestsPerHour",
                "tokensPerProjectPerHour",
            ):
                if name == "concurrentRequests":
                    used = self._in_flight[prop]
                    consumed = 0
                else:
                    used = self._used[(prop, name, buckets[name])]
                    consumed = consumed_now if name.startswith("tokens") else 0
                status: dict[str, int] = {"remaining": max(0, QUOTA_LIMITS[name] - used)}
                if consumed:  # proto3 JSON leaves zero fields out, as Google does
                    status = {"consumed": consumed, **status}
                out[name] = status
        return out
