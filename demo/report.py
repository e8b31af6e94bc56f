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


def revenue_table(shops: Sequence[dict[str, Any]], window: tuple[date, date]) -> Table:
    """`shops`: name, currency, ours (rows), oracle (rows)."""
    table = Table(
        title=f"Revenue, {window[0]} → {window[1]} (shop-local days): Storeline vs oracle"
    )
    table.add_column("shop")
    table.add_column("")
    for figure in FIGURES:
        table.add_column(figure.replace("_", " "), justify="right")
    table.add_column("days equal", justify="right")
    for shop in shops:
        ours, oracle = totals(shop["ours"]), totals(shop["oracle"])
        bad = mismatched_days(shop["ours"], shop["oracle"])
        days = (window[1] - window[0]).days + 1
        verdict = Text(f"{days - len(bad)}/{days}", style="green" if not bad else "bold red")
        table.add_row(
            f"{shop['name']} ({shop['currency']})",
            "Storeline",
            *(_fmt(ours[f], f) for f in FIGURES),
            verdict,
        )
        table.add_row(
            "",
            Text("oracle", style="dim"),
            *(
                Text(_fmt(oracle[f], f), style="dim" if oracle[f] == ours[f] else "bold red")
                for f in FIGURES
            ),
            "",
            end_section=True,
        )
    return table


def _fmt(value: Decimal, figure: str) -> str:
    return f"{value:,.0f}" if figure == "orders" else f"{value:,.2f}"
