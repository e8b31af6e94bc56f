"""Pacing from Meta's usage headers (`x-business-use-case-usage`, `x-ad-account-usage`,
`x-app-usage`): the highest percentage of a group decides the spacing of that group's calls.

The headers are absent until an app or account has made enough calls, and percentages are
fractional (`0.08`): no header means no wait, and every number is read as a float. Under
`usage_slow_percent` calls go at once; between it and `usage_pause_percent` they spread out in
proportion; at the pause mark they wait for `estimated_time_to_regain_access` (minutes) or
`usage_pause_seconds`.
"""

from __future__ import annotations

import time
from typing import Any

import asyncpg
import httpx
import orjson

from storeline.platforms.meta.settings import MetaSettings
from storeline.worker.kit.budget import FleetBudget

_HEADERS = ("x-business-use-case-usage", "x-ad-account-usage", "x-app-usage")
_PERCENT_KEYS = ("call_count", "total_cputime", "total_time", "acc_id_util_pct")


class UsagePacer:
    """The kit's `Pacer` for Meta, its state in fleet budgets (storeline/worker/kit/budget.py):
    `x-app-usage` describes the whole app, so it paces every shop of every worker (key
    `meta:app:<app>`); `x-ad-account-usage` and `x-business-use-case-usage` describe one ad
    account, so they pace only that account's requests (`meta:account:<id>`, the request key)."""

    def __init__(self, settings: MetaSettings, pool: asyncpg.Pool) -> None:
        self.settings = settings
        self.pool = pool
        self.app = FleetBudget(pool, f"meta:app:{settings.app_id}")
        self.accounts: dict[str, FleetBudget] = {}
        self.percent = 0.0  # the highest percentage of the last answer
        self.regain_at = 0.0  # monotonic time Meta said access comes back (0: not throttled)
        self.seen_headers = 0

    def _account(self, key: str) -> FleetBudget:
        if key not in self.accounts:
            self.accounts[key] = FleetBudget(self.pool, f"meta:account:{key}")
        return self.accounts[key]

    async def delay(self, key: str | None) -> float:
        wait = await self.app.take()
        if key:
            wait = max(wait, await self._account(key).take())
        return wait

    async def observe(self, response: httpx.Response, key: str | None) -> None:
        app = _Usage()
        account = _Usage()
        for name in _HEADERS:
            raw = response.headers.get(name)
            if not raw:
                continue
            try:
                value = orjson.loads(raw)
            except orjson.JSONDecodeError:
                continue
            self.seen_headers += 1
            (app if name == "x-app-usage" else account).read(value)
        self.percent = max(app.percent, account.percent)
        regain = max(app.regain, account.regain)
        self.regain_at = time.monotonic() + regain if regain else 0.0
        if app.seen:
            await self.app.signal(**self._signal(app))
        if account.seen and key:
            await self._account(key).signal(**self._signal(account))

    def regain_seconds(self) -> float:
        return max(0.0, self.regain_at - time.monotonic())

    def _signal(self, usage: _Usage) -> dict[str, float]:
        """Under `usage_slow_percent` calls go at once; between it and `usage_pause_percent`
        they are spaced in proportion; at the pause mark everyone waits for the window Meta
        names (`estimated_time_to_regain_access`) or `usage_pause_seconds`."""
        s = self.settings
        if usage.percent >= s.usage_pause_percent:
            return {"pause": usage.regain or s.usage_pause_seconds, "floor": s.usage_slow_seconds}
        if usage.percent <= s.usage_slow_percent:
            return {"pause": 0.0, "floor": 0.0}
        band = s.usage_pause_percent - s.usage_slow_percent
        share = (usage.percent - s.usage_slow_percent) / band
        return {"pause": 0.0, "floor": share * s.usage_slow_seconds}


class _Usage:
    """The highest percentage and the longest regain window of a group of usage headers."""

    def __init__(self) -> None:
        self.seen = False
        self.percent = 0.0
        self.regain = 0.0

    def read(self, value: Any) -> None:
        self.seen = True
        for entry in _entries(value):
            found = [_float(entry.get(k)) for k in _PERCENT_KEYS if k in entry]
            self.percent = max(self.percent, *found, 0.0)
            minutes = _float(entry.get("estimated_time_to_regain_access"))
            self.regain = max(self.regain, 60.0 * minutes, _float(entry.get("reset_time_duration")))


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
