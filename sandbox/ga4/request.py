"""Parsing and validating a runReport body the way the Data API does (400 INVALID_ARGUMENT).

Only what a traffic connector needs is supported: dimensions, metrics, dateRanges (absolute,
"today", "yesterday", "NdaysAgo"), limit/offset, orderBys, metricAggregations, keepEmptyRows,
returnPropertyQuota and string/in-list dimension filters. Anything else is refused loudly rather
than silently ignored, so a connector never believes a filter was applied when it was not.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from sandbox.ga4.catalog import (
    DEFAULT_LIMIT,
    DIMENSIONS,
    MAX_DATE_RANGES,
    MAX_LIMIT,
    METRIC_TYPES,
)
from sandbox.ga4.errors import SCHEMA_URL, ApiError

RELATIVE = re.compile(r"^(\d+)daysAgo$")
SUPPORTED_KEYS = {
    "dimensions",
    "metrics",
    "dateRanges",
    "limit",
    "offset",
    "orderBys",
    "metricAggregations",
    "keepEmptyRows",
    "returnPropertyQuota",
    "dimensionFilter",
    "currencyCode",
    "property",
}


@dataclass(frozen=True)
class DateRange:
    start: date
    end: date
    name: str


@dataclass(frozen=True)
class ReportRequest:
    dimensions: list[str]
    metrics: list[str]
    ranges: list[DateRange]
    limit: int
    offset: int
    order_bys: list[dict[str, Any]]
    aggregations: list[str]
    keep_empty_rows: bool
    return_quota: bool
    dimension_filter: dict[str, Any] | None


def _names(body: dict[str, Any], key: str) -> list[str]:
    items = body.get(key) or []
    if not isinstance(items, list) or not all(isinstance(i, dict) for i in items):
        raise ApiError(400, f"Invalid value at '{key}'.")
    names = [str(i.get("name", "")) for i in items]
    if len(set(names)) != len(names):
        raise ApiError(400, f"Duplicate {key[:-1]} names are not allowed.")
    return names


def _int(value: Any, field: str) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        raise ApiError(400, f"Invalid value at '{field}' (TYPE_INT64), \"{value}\"") from None


def parse_date(text: str, today: date) -> date:
    """A dateRange bound: YYYY-MM-DD, "today", "yesterday" or "NdaysAgo" in the property's zone."""
    if text == "today":
        return today
    if text == "yesterday":
        return today - timedelta(days=1)
    match = RELATIVE.match(text)
    if match:
        return today - timedelta(days=int(match.group(1)))
    try:
        if len(text) != 10:
            raise ValueError(text)
        return date.fromisoformat(text)
    except ValueError:
        raise ApiError(
            400,
            f"Invalid date value '{text}'. Dates must be in YYYY-MM-DD, NdaysAgo, yesterday, "
            "or today format.",
        ) from None


def _ranges(body: dict[str, Any], today: date) -> list[DateRange]:
    raw = body.get("dateRanges") or []
    if not raw:
        raise ApiError(400, "A dateRange is required unless the request has a cohortSpec.")
    if len(raw) > MAX_DATE_RANGES:
        raise ApiError(400, f"Requested {len(raw)} date ranges; only 4 are allowed.")
    out: list[DateRange] = []
    for i, item in enumerate(raw):
        start = parse_date(str(item.get("startDate", "")), today)
        end = parse_date(str(item.get("endDate", "")), today)
        if start > end:
            raise ApiError(
                400,
                f"Invalid date range. The start date {start} is after the end date {end}.",
            )
        out.append(DateRange(start, end, str(item.get("name") or f"date_range_{i}")))
    return out


def parse(body: dict[str, Any], today: date) -> ReportRequest:
    unknown = sorted(set(body) - SUPPORTED_KEYS)
    if unknown:
        raise ApiError(400, f"The sandbox does not support {', '.join(unknown)} in runReport.")
    dimensions = _names(body, "dimensions")
    metrics = _names(body, "metrics")
    for name in dimensions:
        if name not in DIMENSIONS:
            raise ApiError(
                400,
                f"Field {name} is not a valid dimension. For a list of valid dimensions and "
                f"metrics, see {SCHEMA_URL} ",
            )
    for name in metrics:
        if name not in METRIC_TYPES:
            raise ApiError(
                400,
                f"Field {name} is not a valid metric. For a list of valid dimensions and "
                f"metrics, see {SCHEMA_URL} ",
            )
    if not metrics and not dimensions:
        raise ApiError(400, "At least one dimension or metric is required.")
    if len(dimensions) > 9:
        raise ApiError(400, f"Requested {len(dimensions)} dimensions; only 9 are allowed.")
    if len(metrics) > 10:
        raise ApiError(400, f"Requested {len(metrics)} metrics; only 10 are allowed.")
    ranges = _ranges(body, today)
    limit = _int(body.get("limit", 0), "limit")
    offset = _int(body.get("offset", 0), "offset")
    if limit < 0 or offset < 0:
        raise ApiError(400, "limit and offset must be non-negative.")
    order_bys = list(body.get("orderBys") or [])
    for order in order_bys:
        field = (order.get("dimension") or {}).get("dimensionName") or (
            order.get("metric") or {}
        ).get("metricName")
        if field not in dimensions and field not in metrics:
            raise ApiError(400, f"Field {field} in orderBys must also be in the request.")
    return ReportRequest(
        dimensions=dimensions,
        metrics=metrics,
        ranges=ranges,
        limit=min(limit or DEFAULT_LIMIT, MAX_LIMIT),
        offset=offset,
        order_bys=order_bys,
        aggregations=[str(a) for a in body.get("metricAggregations") or []],
        keep_empty_rows=bool(body.get("keepEmptyRows", False)),
        return_quota=bool(body.get("returnPropertyQuota", False)),
        dimension_filter=body.get("dimensionFilter"),
    )
