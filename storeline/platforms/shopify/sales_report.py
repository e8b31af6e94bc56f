"""Shopify's own daily sales figures through `shopifyqlQuery` (`FROM sales … TIMESERIES day`).

Both the reconciliation (reconcile.py) and a new shop's first numbers (provisional.py) read
them here. ShopifyQL answers a query it cannot run with `parseErrors` and no table; a token
without `read_reports` gets ACCESS_DENIED, which the client raises as a CredentialError with
code `shopify_access_denied`: here that becomes `ReportUnavailable`, never a failed sync.

Shopify's reports show discounts and returns as negative amounts; the product stores them
positive (docs/shopify-sales-report.md). The sign is read from each answer (net sales =
gross + discounts + returns means negative) rather than assumed, and `duties` and
`additional_fees` are asked for but dropped if ShopifyQL does not know them.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any

from storeline.platforms.shopify.client import ShopifyClient
from storeline.platforms.shopify.documents import document
from storeline.worker.errors import CredentialError

# ShopifyQL metric → the product's name (reporting.shop_daily_kpis).
METRICS: dict[str, str] = {
    "orders": "orders",
    "gross_sales": "gross_sales",
    "discounts": "discounts",
    "returns": "returns",
    "net_sales": "net_sales",
    "shipping_charges": "shipping",
    "duties": "duties",
    "additional_fees": "additional_fees",
    "taxes": "taxes",
    "total_sales": "total_sales",
}
# Asked for, but a parse error naming one of them drops it and asks again.
OPTIONAL = ("duties", "additional_fees")
FIRST_DAYS = 31  # a new shop's first query: what a dashboard shows by default, fast
ACCESS_DENIED = "shopify_access_denied"


class ReportUnavailable(Exception):
    """The token lacks `read_reports`: Shopify's figures cannot be read (not verified)."""


class ReportError(Exception):
    """Shopify answered, but not with a table we can read; the message is caller-facing."""


@dataclass(frozen=True)
class ReportedDay:
    day: date
    figures: dict[str, Decimal]  # product metric name → value (orders as a whole number)


def query(metrics: Sequence[str], since: str, until: str) -> str:
    return f"FROM sales SHOW {', '.join(metrics)} TIMESERIES day SINCE {since} UNTIL {until}"


def spans(days: Iterable[date], width: int) -> list[tuple[date, date]]:
    """Ranges of at most `width` days covering `days`, each narrowed to the days it holds, so
    an incremental that touched a day long ago and today asks for two short ranges."""
    ordered = sorted(set(days))
    out: list[tuple[date, date]] = []
    for day in ordered:
        if out and (day - out[-1][0]).days < width:
            out[-1] = (out[-1][0], day)
        else:
            out.append((day, day))
    return out


def history(days: int, width: int, first: int = FIRST_DAYS) -> Iterator[tuple[str, str]]:
    """The last `days` days up to Shopify's today as (SINCE, UNTIL) offsets, newest first: the
    first `first` days (a dashboard's default month) in one small query, then `width` days
    each. Relative offsets let Shopify's clock and the shop's timezone decide what today is."""
    end, size = 0, min(first, width)
    while end < days:
        start = min(end + size, days) - 1
        yield f"-{start}d", "today" if end == 0 else f"-{end}d"
        end, size = start + 1, width


async def fetch(client: ShopifyClient, since: str, until: str) -> list[ReportedDay]:
    """Shopify's figures per day from `since` to `until` (ShopifyQL dates or offsets)."""
    metrics = list(METRICS)
    while True:
        try:
            result = await client.graphql(
                document("sales_report"), {"query": query(metrics, since, until)}
            )
        except CredentialError as exc:
            if exc.code == ACCESS_DENIED:
                raise ReportUnavailable("the app's token lacks the read_reports scope") from None
            raise
        answer = result.data.get("shopifyqlQuery")
        if not isinstance(answer, Mapping):
            raise ReportError("Shopify returned no report")
        errors = [str(e) for e in answer.get("parseErrors") or []]
        unknown = [m for m in OPTIONAL if m in metrics and any(m in e for e in errors)]
        if errors and unknown:
            metrics = [m for m in metrics if m not in unknown]
            continue
        if errors:
            raise ReportError(f"ShopifyQL could not run the report: {errors[0][:200]}")
        return _days(answer.get("tableData"), metrics)


def _days(table: Any, metrics: list[str]) -> list[ReportedDay]:
    if not isinstance(table, Mapping):
        raise ReportError("Shopify returned a report without a table")
    names = [str(c.get("name")) for c in table.get("columns") or [] if isinstance(c, Mapping)]
    rows = table.get("rows")
    if not isinstance(rows, list) or not names:
        raise ReportError("Shopify returned a report without rows")
    records = [
        dict(row) if isinstance(row, Mapping) else dict(zip(names, row, strict=False))
        for row in rows
        if isinstance(row, Mapping | list)
    ]
    day_column = "day" if "day" in names else next((n for n in names if n not in METRICS), None)
    if day_column is None:
        raise ReportError("Shopify returned a report without a day column")
    sign = _sign(records)
    out = []
    for record in records:
        day = _day(record.get(day_column))
        figures: dict[str, Decimal] = {}
        for metric in metrics:
            value = _number(record.get(metric))
            if metric in ("discounts", "returns"):
                value *= sign
            figures[METRICS[metric]] = value
        out.append(ReportedDay(day, figures))
    return out


def _sign(records: list[dict[str, Any]]) -> int:
    """-1 when the answer shows discounts and returns negative (net = gross + both), else 1."""
    for record in records:
        gross, net = _number(record.get("gross_sales")), _number(record.get("net_sales"))
        reductions = _number(record.get("discounts")) + _number(record.get("returns"))
        if reductions and gross + reductions == net:
            return -1
        if reductions and gross - reductions == net:
            return 1
    return -1  # no day tells: Shopify's reports show them negative


def _day(value: Any) -> date:
    try:
        return date.fromisoformat(str(value)[:10])
    except ValueError:
        raise ReportError("Shopify returned a report row without a valid day") from None


def _number(value: Any) -> Decimal:
    if value is None or value == "":
        return Decimal(0)
    try:
        return Decimal(str(value))
    except InvalidOperation:
        raise ReportError("Shopify returned a report value that is not a number") from None
