"""Building a RunReportResponse from traffic cells: group, filter, order, page, format.

Output follows proto3 JSON as Google emits it: metric values are strings, zero-valued and empty
fields are left out (no `rows` and no `rowCount` when nothing matched), `rowCount` counts every
row regardless of limit/offset, and several date ranges add a trailing `dateRange` dimension.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Callable, Iterable
from decimal import Decimal
from typing import Any

from sandbox.ga4.catalog import ALIASES, METRIC_TYPES, RATIOS
from sandbox.ga4.errors import ApiError
from sandbox.ga4.generate import Cell
from sandbox.ga4.request import ReportRequest

Key = tuple[str, ...]


class Totals:
    """Summed base counters and revenue of one output row."""

    __slots__ = ("counters", "revenue")

    def __init__(self) -> None:
        self.counters: dict[str, int] = defaultdict(int)
        self.revenue = Decimal(0)

    def add(self, cell: Cell) -> None:
        for name, value in cell.counters.items():
            self.counters[name] += value
        self.revenue += cell.revenue

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
    req: ReportRequest, cells_by_range: Iterable[tuple[str, Iterable[Cell]]]
) -> dict[Key, Totals]:
    """Aggregate cells into output rows keyed by the requested dimension values."""
    multi = len(req.ranges) > 1
    rows: dict[Key, Totals] = {}
    for range_name, cells in cells_by_range:
        for cell in cells:
            dims = {name: cell.dimension(name) for name in req.dimensions}
            if req.dimension_filter and not _matches(req.dimension_filter, dims):
                continue
            key = tuple(dims[n] for n in req.dimensions) + ((range_name,) if multi else ())
            totals = rows.get(key)
            if totals is None:
                totals = rows[key] = Totals()
            totals.add(cell)
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


def build(req: ReportRequest, rows: dict[Key, Totals]) -> dict[str, Any]:
    """The response body minus metadata and quota (the app adds those)."""
    if not req.keep_empty_rows:
        rows = {k: t for k, t in rows.items() if any(t.value(m) != 0 for m in req.metrics)}
    ordered = _ordered(req, rows)
    page = ordered[req.offset : req.offset + req.limit]
    dimension_headers = [{"name": n} for n in req.dimensions]
    if len(req.ranges) > 1:
        dimension_headers.append({"name": "dateRange"})
    body: dict[str, Any] = {
        "dimensionHeaders": dimension_headers,
        "metricHeaders": [{"name": m, "type": METRIC_TYPES[m]} for m in req.metrics],
    }
    if page:
        body["rows"] = [_row(key, totals, req.metrics) for key, totals in page]
    if req.aggregations and ordered:
        body.update(_aggregations(req, ordered, len(dimension_headers)))
    if ordered:
        body["rowCount"] = len(ordered)
    return body


def _row(key: Key, totals: Totals, metrics: list[str]) -> dict[str, Any]:
    return {
        "dimensionValues": [{"value": v} for v in key],
        "metricValues": [{"value": fmt(totals.value(m), m)} for m in metrics],
    }


def _aggregations(
    req: ReportRequest, ordered: list[tuple[Key, Totals]], width: int
) -> dict[str, Any]:
    out: dict[str, Any] = {}
    reserved = {"TOTAL": "RESERVED_TOTAL", "MAXIMUM": "RESERVED_MAX", "MINIMUM": "RESERVED_MIN"}
    for agg in req.aggregations:
        if agg not in reserved:
            raise ApiError(400, f"Invalid metricAggregation {agg}.")
        values = []
        for metric in req.metrics:
            column = [t.value(metric) for _, t in ordered]
            if agg == "TOTAL":
                whole = Totals()
                for _, t in ordered:
                    for k, v in t.counters.items():
                        whole.counters[k] += v
                    whole.revenue += t.revenue
                values.append(whole.value(metric))
            else:
                values.append(max(column) if agg == "MAXIMUM" else min(column))
        field = {"TOTAL": "totals", "MAXIMUM": "maximums", "MINIMUM": "minimums"}[agg]
        out[field] = [
            {
                "dimensionValues": [{"value": reserved[agg]} for _ in range(width)],
                "metricValues": [
                    {"value": fmt(v, m)} for v, m in zip(values, req.metrics, strict=True)
                ],
            }
        ]
    return out
