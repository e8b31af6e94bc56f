"""Rate-limit accounting behind the usage headers Meta puts on every Marketing API answer.

Each call costs points (more for more rows, more for an async report); the points of the last
`window` seconds (real monotonic time, so usage falls again when a client backs off) over the
account's capacity give the percentages in `x-business-use-case-usage`, `x-ad-account-usage`,
`x-fb-ads-insights-throttle` and (over all accounts) `x-app-usage`. Past 100 % the account is
throttled for real until the window drains. Header formats: developers.facebook.com Graph API
"Rate Limiting" (Business Use Case) and Marketing API rate limiting.
"""

from __future__ import annotations

import json
import math
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field

ACCESS_TIER = "standard_access"


@dataclass
class UsageMeter:
    capacity: int = 6000  # points per account per window; a normal sync stays far below
    window: float = 60.0
    clock: Callable[[], float] = time.monotonic
    _calls: dict[str, deque[tuple[float, int]]] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def _drain(self, account: str, now: float) -> deque[tuple[float, int]]:
        calls = self._calls.setdefault(account, deque())
        while calls and calls[0][0] <= now - self.window:
            calls.popleft()
        return calls

    def record(self, account: str, cost: int) -> None:
        with self._lock:
            now = self.clock()
            self._drain(account, now).append((now, cost))

    def percent(self, account: str) -> int:
        with self._lock:
            calls = self._drain(account, self.clock())
            return min(100, math.ceil(100 * sum(c for _, c in calls) / self.capacity))

    def regain_minutes(self, account: str) -> int:
        """Minutes until enough of the window drains to go below 100 % (0 when not throttled)."""
        with self._lock:
            now = self.clock()
            calls = self._drain(account, now)
            used = sum(c for _, c in calls)
            if used < self.capacity:
                return 0
            for at, cost in calls:  # oldest first: when does enough of it expire?
                used -= cost
                if used < self.capacity:
                    return max(1, math.ceil((at + self.window - now) / 60))
            return 1

    def app_percent(self) -> int:
        with self._lock:
            now = self.clock()
            used = sum(c for acc in list(self._calls) for _, c in self._drain(acc, now))
            return min(100, math.ceil(100 * used / (self.capacity * 10)))


def headers(
    meter: UsageMeter, account_number: str | None, *, forced_minutes: int | None = None
) -> dict[str, str]:
    """The usage headers for one answer; `forced_minutes` reports an injected throttle."""
    app = meter.app_percent()
    out = {"x-app-usage": _dump({"call_count": app, "total_cputime": app // 2, "total_time": app})}
    if account_number is None:
        return out
    pct = meter.percent(account_number)
    regain = meter.regain_minutes(account_number)
    if forced_minutes is not None:
        pct, regain = 100, forced_minutes
    cpu, total = max(0, pct * 3 // 5), max(0, pct * 4 // 5)
    out["x-business-use-case-usage"] = _dump(
        {
            account_number: [
                {
                    "type": "ads_insights",
                    "call_count": pct,
                    "total_cputime": cpu if pct < 100 else 100,
                    "total_time": total if pct < 100 else 100,
                    "estimated_time_to_regain_access": regain,
                    "ads_api_access_tier": ACCESS_TIER,
                }
            ]
        }
    )
    out["x-ad-account-usage"] = _dump(
        {
            "acc_id_util_pct": pct,
            "reset_time_duration": regain * 60 if regain else 0,
            "ads_api_access_tier": ACCESS_TIER,
        }
    )
    out["x-fb-ads-insights-throttle"] = _dump(
        {"app_id_util_pct": app, "acc_id_util_pct": pct, "ads_api_access_tier": ACCESS_TIER}
    )
    return out


def _dump(value: object) -> str:
    return json.dumps(value, separators=(",", ":"))
