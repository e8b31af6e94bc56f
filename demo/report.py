"""The closing table: Storeline's revenue for the last 30 shop-local days next to the oracle's."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date
from decimal import Decimal
from typing import Any

from rich.table import Table
from rich.text import Text

FIGURES = (
    "orders",
    "gross_sales",
    "discounts",
    "returns",
    "net_sales",
    "shipping",
    "duties",
    "additional_fees",
    "taxes",
    "total_sales",
)


def _day(row: Mapping[str, Any]) -> date:
    value = row.get("day") or row.get("date")
    return value if isinstance(value, date) else date.fromisoformat(str(value))


def totals(rows: Sequence[Mapping[str, Any]]) -> dict[str, Decimal]:
    return {f: sum((Decimal(str(r[f])) for r in rows), Decimal(0)) for f in FIGURES}


def mismatched_days(
    ours: Sequence[Mapping[str, Any]], oracle: Sequence[Mapping[str, Any]]
) -> list[date]:
    """Days on which any figure differs (a day missing on one side counts as all zeros)."""
    a = {_day(r): r for r in ours}
    b = {_day(r): r for r in oracle}
    zero = dict.fromkeys(FIGURES, 0)
    bad = []
    for day in sorted(a.keys() | b.keys()):
        left, right = a.get(day, zero), b.get(day, zero)
        if any(Decimal(str(left[f])) != Decimal(str(right[f])) for f in FIGURES):
            bad.append(day)
    return bad


def revenue_table(shop: Mapping[str, Any], window: tuple[date, date]) -> Table:
    """One shop: each figure summed over the window, Storeline beside the oracle."""
    ours, oracle = totals(shop["ours"]), totals(shop["oracle"])
    bad = mismatched_days(shop["ours"], shop["oracle"])
    days = (window[1] - window[0]).days + 1
    table = Table(
        title=f"{shop['name']} · {shop['currency']} · {shop['timezone']}",
        caption=f"{window[0]} → {window[1]}: {days - len(bad)}/{days} days equal",
        caption_style="green" if not bad else "bold red",
    )
    table.add_column("figure")
    table.add_column("Storeline", justify="right", no_wrap=True)
    table.add_column("oracle", justify="right", no_wrap=True)
    table.add_column("", no_wrap=True)
    for figure in FIGURES:
        same = ours[figure] == oracle[figure]
        table.add_row(
            figure.replace("_", " "),
            _fmt(ours[figure], figure),
            _fmt(oracle[figure], figure),
            Text("✓", style="green") if same else Text("✗", style="bold red"),
        )
    return table


def _fmt(value: Decimal, figure: str) -> str:
    return f"{value:,.0f}" if figure == "orders" else f"{value:,.2f}"
