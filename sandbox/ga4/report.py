"""Building a RunReportResponse from day tables: group, filter, zero-fill, threshold, order, page.

Output follows proto3 JSON as Google emits it: metric values are strings, zero-valued and empty
fields are left out (no `rows` and no `rowCount` when nothing matched), `rowCount` counts every
row regardless of limit/offset, and several date ranges add a trailing `dateRange` dimension.
User metrics are de-duplicated (sandbox/ga4/users.py), never summed across cells.
"""

from __future__ import annotations

import hashlib
import re
from collections import defaultdict
from collections.abc import Callable, Iterable
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from sandbox.ga4 import users
from sandbox.ga4.catalog import ALIASES, METRIC_TYPES, RATIOS, THRESHOLD_USERS
from sandbox.ga4.errors import ApiError
from sandbox.ga4.generate import Cell, DayTable
from sandbox.ga4.request import ReportRequest

Key = tuple[str, ...]


class Totals:
    """One output row's figures: additive counters and revenue summed, users kept per day as the
    share of that day's pool the row's cells miss, so they are counted once (users.py)."""

    __slots__ = ("counters", "days", "pool", "revenue")

    def __init__(self, pool: float) -> None:
        self.counters: dict[str, int] = defaultdict(int)
        self.revenue = Decimal(0)
        self.pool = pool  # the property-wide pool that days of users are drawn from
        self.days: dict[date, list[float]] = {}  # day -> [missed users, missed new, pools...]

    def add(self, cell: Cell, table: DayTable) -> None:
        for name, value in cell.counters.items():
            self.counters[name] += value
        self.revenue += cell.revenue
        day = self.days.setdefault(table.day, [1.0, 1.0, table.user_pool, table.new_user_pool])
        day[0] *= users.miss(cell.counters["totalUsers"], table.user_pool)
        day[1] *= users.miss(cell.counters["newUsers"], table.new_user_pool)

    def merge(self, other: Totals) -> None:
        for name, value in other.counters.items():
            self.counters[name] += value
        self.revenue += other.revenue
        for day, (missed, missed_new, pool, new_pool) in other.days.items():
            mine = self.days.setdefault(day, [1.0, 1.0, pool, new_pool])
            mine[0] *= missed
            mine[1] *= missed_new

    def users(self) -> int:
        per_day = [users.covered(d[0], d[2]) for _, d in sorted(self.days.items())]
        return users.whole(users.across_days(per_day, self.pool)) if per_day else 0

    def new_users(self) -> int:
        return sum(users.whole(users.covered(d[1], d[3])) for d in self.days.values())

    def value(self, metric: str) -> Decimal:
        if metric in RATIOS:
            part, whole, invert = RATIOS[metric]
            if not self.counters[whole]:
                return Decimal(0)
            ratio = Decimal(self.counters[part]) / Decimal(self.counters[whole])
            return (1 - ratio if invert else ratio).quantize(Decimal("0.0000001"))
        base = ALIASES.get(metric, metric)
        if base == "purchaseRevenue":
            return self.revenue
        if base == "totalUsers":
            return Decimal(self.users())
        if base == "newUsers":
            return Decimal(self.new_users())
        return Decimal(self.counters[base])


def fmt(value: Decimal, metric: str) -> str:
    if METRIC_TYPES[metric] == "TYPE_INTEGER":
        return str(int(value))
    text = format(value.normalize(), "f")
    return "0" if text in ("-0", "0E-7") else text


def _matches(expr: dict[str, Any], dims: dict[str, str]) -> bool:
    if "andGroup" in expr:
        return all(_matches(e, dims) for e in expr["andGroup"].get("expressions", []))
    if "orGroup" in expr:
        return any(_matches(e, dims) for e in expr["orGroup"].get("expressions", []))
    if "notExpression" in expr:
        return not _matches(expr["notExpression"], dims)
    flt = expr.get("filter") or {}
    name = flt.get("fieldName", "")
    if name not in dims:
        raise ApiError(400, f"Field {name} in dimensionFilter is not a dimension of the request.")
    value = dims[name]
    if "inListFilter" in flt:
        spec = flt["inListFilter"]
        values = [str(v) for v in spec.get("values", [])]
        if not spec.get("caseSensitive", False):
            return value.lower() in {v.lower() for v in values}
        return value in values
    if "stringFilter" in flt:
        spec = flt["stringFilter"]
        want = str(spec.get("value", ""))
        got = value
        if not spec.get("caseSensitive", False):
            want, got = want.lower(), got.lower()
        match_type = spec.get("matchType", "EXACT")
        checks = {
            "EXACT": lambda: got == want,
            "BEGINS_WITH": lambda: got.startswith(want),
            "ENDS_WITH": lambda: got.endswith(want),
            "CONTAINS": lambda: want in got,
            "FULL_REGEXP": lambda: re.fullmatch(want, got) is not None,
            "PARTIAL_REGEXP": lambda: re.search(want, got) is not None,
        }
        if match_type not in checks:
            raise ApiError(400, f"Unknown matchType {match_type}.")
        return bool(checks[match_type]())
    raise ApiError(400, "The sandbox supports only stringFilter and inListFilter.")


def group(
    req: ReportRequest, tables_by_range: Iterable[tuple[str, Iterable[DayTable]]], pool: float
) -> dict[Key, Totals]:
    """Aggregate day-table cells into output rows keyed by the requested dimension values."""
    multi = len(req.ranges) > 1
    rows: dict[Key, Totals] = {}
    for range_name, tables in tables_by_range:
        for table in tables:
            for cell in table.cells:
                dims = {name: cell.dimension(name) for name in req.dimensions}
                if req.dimension_filter and not _matches(req.dimension_filter, dims):
                    continue
                key = tuple(dims[n] for n in req.dimensions) + ((range_name,) if multi else ())
                totals = rows.get(key)
                if totals is None:
                    totals = rows[key] = Totals(pool)
                totals.add(cell, table)
    return rows


def _metric_key(metric: str) -> Callable[[tuple[Key, Totals]], Decimal]:
    return lambda kv: kv[1].value(metric)


def _dimension_key(index: int) -> Callable[[tuple[Key, Totals]], str]:
    return lambda kv: kv[0][index]


def _ordered(req: ReportRequest, rows: dict[Key, Totals]) -> list[tuple[Key, Totals]]:
    """Requested orderBys first; then, as GA4 does by default, the first metric descending.
    Dimension values break every tie so paging through offsets is stable."""
    items = sorted(rows.items(), key=lambda kv: kv[0])
    orders = list(req.order_bys)
    if not orders and req.metrics:
        orders = [{"metric": {"metricName": req.metrics[0]}, "desc": True}]
    for order in reversed(orders):
        desc = bool(order.get("desc", False))
        if "metric" in order:
            items.sort(key=_metric_key(order["metric"]["metricName"]), reverse=desc)
        else:
            index = req.dimensions.index(order["dimension"]["dimensionName"])
            items.sort(key=_dimension_key(index), reverse=desc)
    return items


def build(
    req: ReportRequest,
    rows: dict[Key, Totals],
    pool: float,
    *,
    thresholded: bool = False,
    sample_seed: str | None = None,
) -> tuple[dict[str, Any], bool]:
    """The response body minus metadata and quota (the app adds those), and whether thresholds
    withheld every row. Several date ranges zero-fill: a combination seen in any range gets a row
    in every range. Thresholds withhold rows after totals are taken, so rows need not add up."""
    names = [r.name for r in req.ranges]
    multi = len(names) > 1
    if multi:
        for combo in {k[:-1] for k in rows}:
            for name in names:
                rows.setdefault((*combo, name), Totals(pool))
    if not req.keep_empty_rows:
        live = {k[:-1] if multi else k for k, t in rows.items() if _nonzero(t, req.metrics)}
        rows = {k: t for k, t in rows.items() if (k[:-1] if multi else k) in live}
    aggregated = dict(rows)
    if thresholded:
        rows = {k: t for k, t in rows.items() if not 0 < t.users() < THRESHOLD_USERS}
    ordered = _ordered(req, rows)
    page = ordered[req.offset : req.offset + req.limit]
    dimension_headers = [{"name": n} for n in req.dimensions]
    if multi:
        dimension_headers.append({"name": "dateRange"})
    body: dict[str, Any] = {
        "dimensionHeaders": dimension_headers,
        "metricHeaders": [{"name": m, "type": METRIC_TYPES[m]} for m in req.metrics],
    }
    if page:
        body["rows"] = [_row(key, totals, req.metrics, sample_seed) for key, totals in page]
    if req.aggregations and aggregated:
        body.update(_aggregations(req, aggregated, pool, sample_seed))
    if ordered:
        body["rowCount"] = len(ordered)
    return body, bool(aggregated) and not ordered and thresholded


def _nonzero(totals: Totals, metrics: list[str]) -> bool:
    return any(totals.value(m) != 0 for m in metrics)


def _factor(sample_seed: str | None, key: Key) -> Decimal:
    """A sampled report estimates each figure from a subset: off by up to 3 %, the same way for
    the same request, so re-reading a sampled report gives the same wrong numbers."""
    if sample_seed is None:
        return Decimal(1)
    digest = hashlib.sha256(f"{sample_seed}:{'|'.join(key)}".encode()).digest()
    return 1 + (Decimal(int.from_bytes(digest[:4], "big") % 601) - 300) / 10_000


def _shown(totals: Totals, metric: str, factor: Decimal) -> str:
    value = totals.value(metric)
    if factor != 1 and metric not in RATIOS:
        value *= factor
        step = Decimal("0.01") if METRIC_TYPES[metric] == "TYPE_CURRENCY" else Decimal(1)
        value = value.quantize(step, ROUND_HALF_UP)
    return fmt(value, metric)


def _row(key: Key, totals: Totals, metrics: list[str], sample_seed: str | None) -> dict[str, Any]:
    factor = _factor(sample_seed, key)
    return {
        "dimensionValues": [{"value": v} for v in key],
        "metricValues": [{"value": _shown(totals, m, factor)} for m in metrics],
    }


def _aggregations(
    req: ReportRequest, rows: dict[Key, Totals], pool: float, sample_seed: str | None
) -> dict[str, Any]:
    """One totals/maximums/minimums row per date range; totals are computed over the range, not
    summed from rows, so their users are de-duplicated too."""
    reserved = {"TOTAL": "RESERVED_TOTAL", "MAXIMUM": "RESERVED_MAX", "MINIMUM": "RESERVED_MIN"}
    multi = len(req.ranges) > 1
    out: dict[str, Any] = {}
    for agg in req.aggregations:
        if agg not in reserved:
            raise ApiError(400, f"Invalid metricAggregation {agg}.")
        field = {"TOTAL": "totals", "MAXIMUM": "maximums", "MINIMUM": "minimums"}[agg]
        out[field] = []
        for rng in req.ranges:
            members = [t for k, t in rows.items() if not multi or k[-1] == rng.name]
            if not members:
                continue
            key = tuple(reserved[agg] for _ in req.dimensions) + ((rng.name,) if multi else ())
            if agg == "TOTAL":
                whole = Totals(pool)
                for t in members:
                    whole.merge(t)
                factor = _factor(sample_seed, key)
                values = [_shown(whole, m, factor) for m in req.metrics]
            else:
                pick = max if agg == "MAXIMUM" else min
                values = [fmt(pick(t.value(m) for t in members), m) for m in req.metrics]
            out[field].append(
                {
                    "dimensionValues": [{"value": v} for v in key],
                    "metricValues": [{"value": v} for v in values],
                }
            )
    return out
