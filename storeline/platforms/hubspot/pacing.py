"""Request pacing per HubSpot portal: a sliding window of send times, shared by every job of the
worker process that reads the same portal (shops can share one), so they stay under the portal's
limits together instead of each spending the whole budget."""

from __future__ import annotations

import threading
import time
from collections import deque

import httpx


class WindowPacer:
    """At most `limit` requests in any `window` seconds; `delay()` reserves a slot when it
    answers 0 (the kit's client sends right after)."""

    def __init__(self, limit: int, window: float) -> None:
        self.limit = limit
        self.window = window
        self._sent: deque[float] = deque()
        self._lock = threading.Lock()

    def delay(self) -> float:
        now = time.monotonic()
        with self._lock:
            while self._sent and now - self._sent[0] >= self.window:
                self._sent.popleft()
            if len(self._sent) < self.limit:
                self._sent.append(now)
                return 0.0
            return max(self._sent[0] + self.window - now, 0.001)

    def observe(self, response: httpx.Response) -> None:
        """Limits are configured, not learned: HubSpot's rate headers are informational."""


_pacers: dict[tuple[str, str, int], WindowPacer] = {}
_pacers_lock = threading.Lock()


def portal_pacer(portal: str, kind: str, limit: int, window: float) -> WindowPacer:
    """The process-wide pacer of one portal's `kind` of requests ("objects" or "search")."""
    key = (portal, kind, limit)
    with _pacers_lock:
        if key not in _pacers:
            _pacers[key] = WindowPacer(limit, window)
        return _pacers[key]
