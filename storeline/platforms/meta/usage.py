"""Pacing from Meta's usage headers (`x-business-use-case-usage`, `x-ad-account-usage`,
`x-app-usage`): the highest percentage any of them reports decides the wait before the next call.

The headers are absent until an app or account has made enough calls, and percentages are
fractional (`0.08`): no header means no wait, and every number is read as a float. Under
`usage_slow_percent` calls go at once; between it and `usage_pause_percent` they spread out in
proportion; at the pause mark they wait for `estimated_time_to_regain_access` (minutes) or
`usage_pause_seconds`.
"""

from __future__ import annotations

import time
from typing import Any

import httpx
import orjson

from storeline.platforms.meta.settings import MetaSettings

_HEADERS = ("x-business-use-case-usage", "x-ad-account-usage", "x-app-usage")
_PERCENT_KEYS = ("call_count", "total_cputime", "total_time", "acc_id_util_pct")


class UsagePacer:
    def __init__(self, settings: MetaSettings) -> None:
        self.settings = settings
        self.percent = 0.0
        self.regain_at = 0.0  # monotonic time Meta said access comes back (0: not throttled)
        self.seen_headers = 0
        self._waited = False  # the wait for the last observation was taken already

    def observe(self, response: httpx.Response) -> None:
        found: list[float] = []
        regain = 0.0
        for name in _HEADERS:
            raw = response.headers.get(name)
            if not raw:
                continue
            try:
                value = orjson.loads(raw)
            except orjson.JSONDecodeError:
                continue
            self.seen_headers += 1
            for entry in _entries(value):
                found += [_float(entry.get(k)) for k in _PERCENT_KEYS if k in entry]
                regain = max(regain, 60.0 * _float(entry.get("estimated_time_to_regain_access")))
                regain = max(regain, _float(entry.get("reset_time_duration")))
        self.percent = max(found, default=0.0)
        self.regain_at = time.monotonic() + regain if regain else 0.0
        self._waited = False

    def regain_seconds(self) -> float:
        return max(0.0, self.regain_at - time.monotonic())

    def delay(self) -> float:
        """The wait before the next call; taken once per observed answer (callers re-check)."""
        if self._waited:
            return 0.0
        self._waited = True
        s = self.settings
        if self.percent >= s.usage_pause_percent:
            return self.regain_seconds() or s.usage_pause_seconds
        if self.percent <= s.usage_slow_percent:
            return 0.0
        band = s.usage_pause_percent - s.usage_slow_percent
        return (self.percent - s.usage_slow_percent) / band * s.usage_slow_seconds


def _entries(value: Any) -> list[dict[str, Any]]:
    """The usage objects of a header: a flat object, or {account: [objects]}."""
    if not isinstance(value, dict):
        return []
    if any(k in value for k in _PERCENT_KEYS):
        return [value]
    out: list[dict[str, Any]] = []
    for items in value.values():
        if isinstance(items, list):
            out += [i for i in items if isinstance(i, dict)]
    return out


def _float(value: Any) -> float:
    try:
        return float(value) if value is not None else 0.0
    except (TypeError, ValueError):
        return 0.0
