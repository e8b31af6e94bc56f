"""HubSpot's error envelope and rate-limit headers.

Errors are `{"status": "error", "message", "correlationId", "category", ...}`, except 429s, which
carry `errorType`, `policyName` and `requestId`, on some answers `groupName`, and no dependable
`category` (see `rate_limited`). Correlation ids come from a counter hashed with the seed
(uuid-shaped), never from entropy, so bodies are reproducible.
"""

from __future__ import annotations

import hashlib
import threading
import time
import uuid
from collections import deque
from dataclasses import dataclass, field
from typing import Any

from litestar import Response

AUTH_MISSING = (
    "Authentication credentials not found. This API supports OAuth 2.0 authentication and you "
    "can find more details at https://developers.hubspot.com/docs/methods/auth/oauth-overview"
)
DAILY_LIMIT = 500_000
TEN_SECOND_LIMIT = 190
SECONDLY_LIMIT = 19


class HubSpotError(Exception):
    """Raised inside a handler; the app renders it with a fresh correlation id."""

    def __init__(self, status: int, message: str, category: str, **extra: Any) -> None:
        super().__init__(message)
        self.status, self.message, self.category, self.extra = status, message, category, extra


@dataclass
class Correlator:
    seed: int
    _count: int = 0
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def next(self) -> str:
        with self._lock:
            self._count += 1
            digest = hashlib.sha256(f"{self.seed}:hubspot:{self._count}".encode()).digest()
        return str(uuid.UUID(bytes=digest[:16], version=4))


def error_response(
    correlator: Correlator, err: HubSpotError, headers: dict[str, str] | None = None
) -> Response[Any]:
    correlation = correlator.next()
    body = {
        "status": "error",
        "message": err.message,
        "correlationId": correlation,
        **err.extra,
        "category": err.category,
    }
    return Response(
        body,
        status_code=err.status,
        headers={"X-HubSpot-Correlation-Id": correlation, **(headers or {})},
        media_type="application/json",
    )


# The three 429 bodies seen in public reports (docs/platforms/hubspot.md): with groupName, without
# it, and (the sandbox's third variant) with a category as well. Which one answers rotates with
# the correlation id unless a throttle fault asks for one by `shape`.
RATE_LIMIT_SHAPES = ("grouped", "plain", "categorised")
_GROUPS = {"TEN_SECONDLY_ROLLING": "api-calls-ten-secondly", "SECONDLY": "api-calls-secondly"}


def rate_limited(
    correlator: Correlator,
    portal: str,
    policy: str,
    headers: dict[str, str],
    shape: str | None = None,
) -> Response[Any]:
    correlation = correlator.next()
    digest = hashlib.sha256(f"request:{correlation}".encode()).hexdigest()
    if shape not in RATE_LIMIT_SHAPES:
        shape = RATE_LIMIT_SHAPES[int(digest[:8], 16) % len(RATE_LIMIT_SHAPES)]
    body: dict[str, Any] = {
        "status": "error",
        "message": f"You have reached your {policy.lower()} limit.",
        "errorType": "RATE_LIMIT",
        "correlationId": correlation,
    }
    if shape != "plain":
        group = _GROUPS.get(policy, policy.lower().replace("_", "-"))
        body["groupName"] = f"publicapi:private-app-{group}:{portal}"
    body["policyName"] = policy
    body["requestId"] = digest[:32]
    if shape == "categorised":
        body["category"] = "RATE_LIMITS"
    return Response(
        body,
        status_code=429,
        headers={"X-HubSpot-Correlation-Id": correlation, **headers},
        media_type="application/json",
    )


@dataclass
class RateCounter:
    """Counts requests per portal for the X-HubSpot-RateLimit-* headers (informational: limits
    are enforced only through injected throttle faults, so fast tests never trip them)."""

    _daily: dict[tuple[str, str], int] = field(default_factory=dict)
    _recent: dict[str, deque[float]] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def headers(self, portal: str, day: str) -> dict[str, str]:
        now = time.monotonic()
        with self._lock:
            key = (portal, day)
            self._daily[key] = self._daily.get(key, 0) + 1
            recent = self._recent.setdefault(portal, deque())
            recent.append(now)
            while recent and now - recent[0] > 10:
                recent.popleft()
            in_second = sum(1 for t in recent if now - t <= 1)
            return {
                "X-HubSpot-RateLimit-Daily": str(DAILY_LIMIT),
                "X-HubSpot-RateLimit-Daily-Remaining": str(max(0, DAILY_LIMIT - self._daily[key])),
                "X-HubSpot-RateLimit-Interval-Milliseconds": "10000",
                "X-HubSpot-RateLimit-Max": str(TEN_SECOND_LIMIT),
                "X-HubSpot-RateLimit-Remaining": str(max(0, TEN_SECOND_LIMIT - len(recent))),
                "X-HubSpot-RateLimit-Secondly": str(SECONDLY_LIMIT),
                "X-HubSpot-RateLimit-Secondly-Remaining": str(max(0, SECONDLY_LIMIT - in_second)),
            }
