"""Client-side view of Shopify's per app+shop leaky bucket, fed by `extensions.cost`.

Shopify takes a query's *requested* cost up front and refunds the unused part afterwards, so a
request only goes out when the bucket is expected to hold its requested cost again; waiting here
is cheaper than a THROTTLED round trip. Source:
https://shopify.dev/docs/apps/build/apis/graphql-admin/rate-limits
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any


@dataclass
class Bucket:
    maximum: float = 2000.0
    available: float = 2000.0
    restore_rate: float = 100.0
    clock: Callable[[], float] = time.monotonic
    stamp: float = field(default_factory=time.monotonic)
    # Requested cost last seen per document: the best predictor of the next call's cost.
    costs: dict[int, float] = field(default_factory=dict)

    def observe(self, cost: Mapping[str, Any] | None, document: str) -> None:
        """Record `extensions.cost` of a response (throttled or not)."""
        if not isinstance(cost, Mapping):
            return
        requested = cost.get("requestedQueryCost")
        if isinstance(requested, int | float):
            self.costs[hash(document)] = float(requested)
        status = cost.get("throttleStatus")
        if not isinstance(status, Mapping):
            return
        try:
            self.maximum = float(status["maximumAvailable"])
            self.available = float(status["currentlyAvailable"])
            self.restore_rate = max(float(status["restoreRate"]), 1.0)
        except (KeyError, TypeError, ValueError):
            return
        self.stamp = self.clock()

    def estimate(self) -> float:
        elapsed = self.clock() - self.stamp
        return min(self.maximum, self.available + elapsed * self.restore_rate)

    def reserve(self, document: str) -> None:
        """Count a request as sent before its answer arrives, so concurrent callers wait for
        what is left instead of all firing at the same estimate (and drawing THROTTLED)."""
        estimate = self.estimate()
        self.stamp = self.clock()
        self.available = estimate - self.costs.get(hash(document), 0.0)

    def delay_for(self, document: str) -> float:
        """Seconds to wait so the bucket holds this document's expected requested cost."""
        needed = min(self.costs.get(hash(document), 0.0), self.maximum)
        missing = needed - self.estimate()
        return max(0.0, missing / self.restore_rate)

    def throttled_delay(self, cost: Mapping[str, Any] | None, document: str) -> float:
        """After a THROTTLED answer: time until the requested cost is back (at least a moment)."""
        self.observe(cost, document)
        return max(self.delay_for(document), 0.1)
