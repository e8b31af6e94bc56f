"""Request pacing per HubSpot portal, shared by every worker of the fleet (a fleet budget,
storeline/worker/kit/budget.py): shops can share one portal, and the portal's tier (100 to 200
requests per 10 seconds; search a few per second) is the portal's, not one job's or one
process's. A 429 pauses every worker reading the portal for its Retry-After."""

from __future__ import annotations

import asyncpg
import httpx

from storeline.worker.kit.budget import FleetBudget


class PortalPacer:
    """At most `limit` requests per `window` seconds for the whole fleet: spaced `window/limit`
    apart, `limit` back to back after a quiet window."""

    def __init__(self, pool: asyncpg.Pool, portal: str, kind: str, limit: int, window: float):
        self.budget = FleetBudget(
            pool, f"hubspot:{portal}:{kind}", interval=window / limit, burst=limit
        )

    async def delay(self, key: str | None) -> float:
        return await self.budget.take()

    async def observe(self, response: httpx.Response, key: str | None) -> None:
        """Limits are configured, not learned (HubSpot's rate headers are informational); a
        refusal holds the whole fleet back for as long as HubSpot asks."""
        if response.status_code == 429:
            await self.budget.signal(pause=retry_after_seconds(response, 1.0))


def retry_after_seconds(response: httpx.Response, default: float) -> float:
    """Retry-After read defensively: seconds as HTTP says, but a value over 1,000 is taken as
    milliseconds (one public note says HubSpot sends those); missing or garbled → `default`."""
    raw = response.headers.get("retry-after")
    try:
        value = float(raw) if raw is not None else None
    except ValueError:
        value = None
    if value is None or value < 0:
        return default
    return value / 1000.0 if value > 1000 else value
