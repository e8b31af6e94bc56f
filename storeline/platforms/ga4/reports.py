"""The runReport requests the connector sends, and their pages as raw JSON lines for staging.

Four requests, each with one `dateRanges` entry (several ranges add a `dateRange` column,
zero-filled rows and per-range totals: docs/platforms/ga4.md item 8, avoided here):
- span: `date` x sessions over the retention window, ending "today" in the property's timezone,
  so the property's own clock says which days exist (the worker's clock is not GA4's);
- day totals: `date` only with every metric, a chunk of days per request. Users are counted once
  per row, so only a row that is a whole day gives the day's users (item 5); never summed later;
- breakdown: date x channel x source x medium x device for ONE day per request (never sampled),
  additive metrics only. No user metric is asked for: users do not add up across these rows, and
  on a property with Google signals a user metric makes the request thresholded (small rows
  withheld, 120 such requests an hour), so additive rows would no longer sum to the day;
- range users: no dimension over a whole range (the last 7 and 30 days, calendar months): the
  only way to know a range's users, which are fewer than the sum of its days' (item 5).
Each staged line is one page: {"kind", the day or range, "offset", "response": raw answer}; the
answer's bytes go through untouched (orjson.Fragment), metadata and propertyQuota included.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

import orjson

from storeline.platforms.ga4.client import Ga4Client, Page

BREAKDOWN = (
    "date", "sessionDefaultChannelGroup", "sessionSource", "sessionMedium", "deviceCategory",
)  # fmt: skip
ROW_METRICS = ("sessions", "engagedSessions", "keyEvents", "transactions", "purchaseRevenue")
DAY_METRICS = (
    "sessions", "totalUsers", "newUsers", "engagedSessions", "keyEvents", "transactions",
    "purchaseRevenue",
)  # fmt: skip


@dataclass(frozen=True)
class Span:
    """The days the property has data for within its retention, by its own clock."""

    first: date
    today: date
    timezone: str | None


def body(dimensions: tuple[str, ...], metrics: tuple[str, ...], since: str, until: str) -> Any:
    return {
        "dimensions": [{"name": d} for d in dimensions],
        "metrics": [{"name": m} for m in metrics],
        "dateRanges": [{"startDate": since, "endDate": until}],
        "orderBys": [{"dimension": {"dimensionName": "date"}}],
        "keepEmptyRows": False,
        "returnPropertyQuota": True,
    }


async def span(client: Ga4Client, retention_months: int) -> Span | None:
    """None when the property has no sessions at all in the window."""
    request = body(("date",), ("sessions",), f"{retention_months * 31}daysAgo", "today")
    days: list[date] = []
    timezone: str | None = None
    async for page in client.pages(request):
        timezone = (page.body.get("metadata") or {}).get("timeZone") or timezone
        days += [_day(row["dimensionValues"][0]["value"]) for row in page.body.get("rows") or []]
    if not days:
        return None
    today = max(days)
    return Span(max(min(days), months_before(today, retention_months)), today, timezone)


async def chunk_lines(
    client: Ga4Client, since: date, until: date, concurrency: int
) -> AsyncIterator[bytes]:
    """The day totals of since..until, then each day's breakdown, as page lines. Days are read
    concurrently (up to `concurrency` requests in flight); lines come out in day order."""
    totals = body(("date",), DAY_METRICS, since.isoformat(), until.isoformat())
    async for page in client.pages(totals):
        yield _line(page, kind="totals", since=since.isoformat(), until=until.isoformat())
    gate = asyncio.Semaphore(concurrency)

    async def day_pages(day: date) -> list[bytes]:
        async with gate:
            request = body(BREAKDOWN, ROW_METRICS, day.isoformat(), day.isoformat())
            return [_line(p, kind="rows", day=day.isoformat()) async for p in client.pages(request)]

    days = [since + timedelta(days=i) for i in range((until - since).days + 1)]
    for lines in await asyncio.gather(*(day_pages(d) for d in days)):
        for line in lines:
            yield line


RANGE_METRICS = ("sessions", "totalUsers", "newUsers")
TRAILING_DAYS = (7, 30)  # the dashboard's usual windows ending today (the API's default: 30)


def user_ranges(since: date, until: date) -> list[tuple[date, date]]:
    """The ranges whose users a job asks GA4 for (users over a range are GA4's own count, never
    a sum of days): the last 7 and 30 days ending at `until`, and every calendar month the job's
    days touch (month to date for `until`'s month)."""
    ranges = {(until - timedelta(days=n - 1), until) for n in TRAILING_DAYS}
    month = since.replace(day=1)
    while month <= until:
        following = (month + timedelta(days=32)).replace(day=1)
        ranges.add((month, min(following - timedelta(days=1), until)))
        month = following
    return sorted(ranges)


async def range_lines(client: Ga4Client, ranges: list[tuple[date, date]]) -> AsyncIterator[bytes]:
    """One request per range with no dimension: a single row, users counted over the range."""
    for first, last in ranges:
        request = body((), RANGE_METRICS, first.isoformat(), last.isoformat())
        del request["orderBys"]  # nothing to order: no dimension
        async for page in client.pages(request):
            yield _line(page, kind="range", since=first.isoformat(), until=last.isoformat())


def _line(page: Page, **context: str) -> bytes:
    offset = 0 if "offset" not in page.request else int(page.request["offset"])
    return orjson.dumps({**context, "offset": offset, "response": orjson.Fragment(page.raw)})


def _day(value: str) -> date:
    return date(int(value[:4]), int(value[4:6]), int(value[6:8]))  # GA4 dates read YYYYMMDD


def months_before(day: date, months: int) -> date:
    """The same day of the month `months` earlier (the month's last day when it is shorter)."""
    index = day.year * 12 + day.month - 1 - months
    year, month = divmod(index, 12)
    for candidate in range(day.day, 27, -1) if day.day > 28 else (day.day,):
        try:
            return date(year, month + 1, candidate)
        except ValueError:
            continue
    return date(year, month + 1, 28)
