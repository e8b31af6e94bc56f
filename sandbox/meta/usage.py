"""Rate-limit accounting behind the usage headers Meta puts on every Marketing API answer.

Each call costs points (more for more rows, more for an async report); the points of the last
`window` seconds (real monotonic time, so usage falls again when a client backs off) over the
account's capacity give the percentages in `x-business-use-case-usage`, `x-ad-account-usage`,
`x-fb-ads-insights-throttle` and (over all accounts) `x-app-usage`. Past 100 % the account is
throttled for real until the window drains. Header formats: developers.facebook.com Graph API
"Rate Limiting" (Business Use Case) and Marketing API rate limiting.

As on the real API, the headers are absent until an account (for `x-app-usage`, the app) has
made `quiet_calls` calls in the window, and the percentages are fractional (`0.02`, `9.67`): a
client paces with no header at all and with fractions, never assuming an integer.
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
    quiet_calls: int = 5  # calls in the window before the usage headers appear
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

    def percent(self, account: str) -> float:
        """The account's usage in percent of its capacity, unrounded (capped at 100)."""
        with self._lock:
            calls = self._drain(account, self.clock())
            return min(100.0, 100 * sum(c for _, c in calls) / self.capacity)

    def calls(self, account: str | None = None) -> int:
        """Calls in the window, of one account or (None) of the whole app."""
        with self._lock:
            now = self.clock()
            accounts = [account] if account is not None else list(self._calls)
            return sum(len(self._drain(acc, now)) for acc in accounts)

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

    def app_percent(self) -> float:
        with self._lock:
            now = self.clock()
            used = sum(c for acc in list(self._calls) for _, c in self._drain(acc, now))
            return min(100.0, 100 * used / (self.capacity * 10))


def headers(
    meter: UsageMeter, account_number: str | None, *, forced_minutes: int | None = None
) -> dict[str, str]:
    """The usage headers for one answer (none until enough calls were made); `forced_minutes`
    reports an injected throttle, which always carries them."""
    out: dict[str, str] = {}
    if meter.calls() >= meter.quiet_calls or forced_minutes is not None:
        app = meter.app_percent()
        out["x-app-usage"] = _dump(
            {"call_count": _pct(app), "total_cputime": _pct(app / 2), "total_time": _pct(app)}
        )
    if account_number is None:
        return out
    if meter.calls(account_number) < meter.quiet_calls and forced_minutes is None:
        return out
    pct = meter.percent(account_number)
    regain = meter.regain_minutes(account_number)
    if forced_minutes is not None:
        pct, regain = 100.0, forced_minutes
    cpu, total = _pct(pct * 3 / 5), _pct(pct * 4 / 5)
    pct_out = _pct(pct)
    out["x-business-use-case-usage"] = _dump(
        {
            account_number: [
                {
                    "type": "ads_insights",
                    "call_count": pct_out,
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
            "acc_id_util_pct": pct_out,
            "reset_time_duration": regain * 60 if regain else 0,
            "ads_api_access_tier": ACCESS_TIER,
        }
    )
    out["x-fb-ads-insights-throttle"] = _dump(
        {
            "app_id_util_pct": _pct(meter.app_percent()),
            "acc_id_util_pct": pct_out,
            "ads_api_access_tier": ACCESS_TIER,
        }
    )
    return out


def _pct(value: float) -> int | float:
    """A percentage as Meta writes it: two decimals at most, whole numbers without a fraction,
    and any usage at all at least 0.01."""
    if value <= 0:
        return 0
    rounded = max(0.01, round(value, 2))
    return int(rounded) if rounded == int(rounded) else rounded


def _dump(value: object) -> str:
    return json.dumps(value, separators=(",", ":"))
