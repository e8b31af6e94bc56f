"""Request budgets a whole worker fleet shares, kept in Postgres (97_source_budgets.sql).

A per-process pacer can only keep one worker under a source's limit; with several workers (or
several shops in one) every process would spend the whole budget. A `FleetBudget` is one row per
key: each request reserves its send time in one statement (a generic cell rate algorithm), so
every process talking to the same Meta app, GA4 property or HubSpot portal waits its turn in one
schedule, first come first served, which is what "shared fairly" means here. What a source's
answer says (a usage header near its limit, an exhausted quota) is published with `signal` and
holds back every process, not only the one that read it.

Cost: one round trip (about a millisecond) per source request, beside requests that take tens
to hundreds of milliseconds.
"""

from __future__ import annotations

from dataclasses import dataclass

import asyncpg

from storeline.core.sql import queries


@dataclass
class FleetBudget:
    """`key`'s schedule: `interval` seconds between requests fleet-wide, `burst` requests may go
    back to back after a quiet spell (0 interval: no spacing, only signals)."""

    pool: asyncpg.Pool
    key: str
    interval: float = 0.0
    burst: int = 1
    last_signal: tuple[float, float] | None = None

    async def take(self) -> float:
        """Reserve the next request's send time; the seconds to wait before sending it."""
        tolerance = self.interval * max(self.burst - 1, 0)
        wait = await self.pool.fetchval(
            queries("app_dashboard")["budget_take"], self.key, self.interval, tolerance
        )
        return max(float(wait or 0.0), 0.0)

    async def signal(self, *, pause: float = 0.0, floor: float = 0.0) -> None:
        """Hold every process back `pause` seconds and space requests `floor` seconds apart
        from now on. Repeating the last signal without a pause is not written again."""
        if pause <= 0 and self.last_signal == (0.0, floor):
            return
        self.last_signal = (max(pause, 0.0), max(floor, 0.0))
        await self.pool.execute(
            queries("app_dashboard")["budget_signal"], self.key, *self.last_signal
        )
