"""Per-property Core quota, charged per request and reported as `propertyQuota`.

Hourly buckets follow the sandbox clock; the daily bucket resets at midnight Pacific, as Google's
does. A request is refused with 429 RESOURCE_EXHAUSTED only when a bucket is already empty; one
that costs more than is left still runs and leaves `remaining` negative. An exhausted property
stays refused until its bucket resets (advance the clock). Requests subject to thresholding also
spend one of the 120 potentially-thresholded requests an hour, which can run out like tokens.
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
LEARN_MORE = (
    " To learn more, see https://developers.google.com/analytics/devguides/reporting/data/v1/quotas"
)
HOUR = " These quota tokens will return in under an hour." + LEARN_MORE
# The three attested messages are Google's words (docs/platforms/ga4.md); the per-property hourly
# and daily wording is not attested anywhere public, so connectors must not match on it.
EXHAUSTED = {
    "tokensPerProjectPerHour": "Exhausted property tokens for a project per hour." + HOUR,
    "concurrentRequests": "Exhausted concurrent requests quota.",
    "potentiallyThresholdedRequestsPerHour": (
        "Exhausted potentially thresholded requests quota. This quota will refresh in under an "
        "hour." + LEARN_MORE
    ),
    "tokensPerHour": "Exhausted property tokens per hour." + HOUR,
    "tokensPerDay": (
        "Exhausted property tokens per day. These quota tokens will return in less than 24 hours."
        + LEARN_MORE
    ),
}
TOKENS = ("tokensPerProjectPerHour", "tokensPerHour", "tokensPerDay")
REFUSING = (*TOKENS, "potentiallyThresholdedRequestsPerHour")
REPORTED = (
    "tokensPerDay",
    "tokensPerHour",
    "concurrentRequests",
    "serverErrorsPerProjectPerHour",
    "potentiallyThresholdedRequestsPerHour",
    "tokensPerProjectPerHour",
)


def request_cost(days: int, rows: int, dimensions: int) -> int:
    """Tokens a report costs: grows with the date span, the rows scanned and the dimensions."""
    return 1 + days // 60 + rows // 5000 + max(0, dimensions - 3)


@dataclass
class PropertyQuota:
    """Token buckets as Google's quota blog describes them: a request is refused only when a
    bucket is already empty; otherwise it runs and is charged in full, so `remaining` can end
    below zero (-1 is what connectors see most)."""

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
                raise ApiError(429, EXHAUSTED["concurrentRequests"])
            self._in_flight[prop] += 1

    def leave(self, prop: str) -> None:
        with self._lock:
            self._in_flight[prop] -= 1

    def admit(self, prop: str, now: datetime) -> None:
        """Refuse the request if any bucket is empty: an exhausted quota refuses every request to
        the property (PropertyQuota reference), with that bucket's message."""
        buckets = self._buckets(now)
        with self._lock:
            for name in REFUSING:
                if self._used[(prop, name, buckets[name])] >= QUOTA_LIMITS[name]:
                    raise ApiError(429, EXHAUSTED[name])

    def charge(self, prop: str, now: datetime, tokens: int, thresholded: bool) -> None:
        """Deduct a finished request's tokens from every token bucket, even past zero."""
        buckets = self._buckets(now)
        with self._lock:
            for name in TOKENS:
                self._used[(prop, name, buckets[name])] += tokens
            if thresholded:
                name = "potentiallyThresholdedRequestsPerHour"
                self._used[(prop, name, buckets[name])] += 1

    def exhaust(self, prop: str, now: datetime, name: str, leave: int = 0) -> None:
        """Use a bucket up to `leave` remaining (the throttle fault's `exhaust` and `leave`
        simulate a busy property without thousands of requests)."""
        if name not in REFUSING:
            return
        with self._lock:
            self._used[(prop, name, self._buckets(now)[name])] = QUOTA_LIMITS[name] - leave

    def server_error(self, prop: str, now: datetime) -> None:
        with self._lock:
            key = (
                prop,
                "serverErrorsPerProjectPerHour",
                self._buckets(now)["serverErrorsPerProjectPerHour"],
            )
            self._used[key] += 1

    def report(
        self, prop: str, now: datetime, consumed_now: int, thresholded: bool
    ) -> dict[str, Any]:
        """The `propertyQuota` object: what this request consumed and what is left (which can be
        negative once a request overdrew a bucket)."""
        buckets = self._buckets(now)
        out: dict[str, Any] = {}
        with self._lock:
            for name in REPORTED:
                if name == "concurrentRequests":
                    used, consumed = self._in_flight[prop], 0
                else:
                    used = self._used[(prop, name, buckets[name])]
                    consumed = consumed_now if name in TOKENS else 0
                    if name == "potentiallyThresholdedRequestsPerHour" and thresholded:
                        consumed = 1
                status: dict[str, int] = {}
                if consumed:  # proto3 JSON leaves zero fields out, as Google does
                    status["consumed"] = consumed
                if QUOTA_LIMITS[name] - used:
                    status["remaining"] = QUOTA_LIMITS[name] - used
                out[name] = status
        return out
