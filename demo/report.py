"""The closing tables: Storeline's revenue, ad spend and pipeline for the last 30 shop-local days
next to the sandbox oracles'."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
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
    "return_fees",
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


def _ads(shop: Mapping[str, Any]) -> tuple[dict[str, Decimal | None], dict[str, Decimal | None]]:
    """(Storeline, oracle) spend, purchase value, ROAS and MER over the window."""
    kpis = shop["kpis"]
    spend = sum((Decimal(d["spend"]) for d in shop["ads"]), Decimal(0))
    value = sum((Decimal(d["purchase_value"]) for d in shop["ads"]), Decimal(0))
    total = totals(shop["oracle"])["total_sales"]
    cent = Decimal("0.01")
    oracle: dict[str, Decimal | None] = {
        "ad spend": spend,
        "ROAS (Meta)": (value / spend).quantize(cent, ROUND_HALF_UP) if spend else None,
        "MER": (total / spend).quantize(cent, ROUND_HALF_UP) if spend else None,
    }
    roas = (kpis.get("roas") or {}).get("META")
    ours: dict[str, Decimal | None] = {
        "ad spend": Decimal(kpis["ad_spend"]) if kpis.get("ad_spend") is not None else None,
        "ROAS (Meta)": Decimal(roas) if roas is not None else None,
        "MER": Decimal(kpis["mer"]) if kpis.get("mer") is not None else None,
    }
    return ours, oracle


def marketing_equal(shop: Mapping[str, Any]) -> bool:
    ours, oracle = _ads(shop)
    return ours == oracle


def marketing_table(shop: Mapping[str, Any]) -> Table:
    ours, oracle = _ads(shop)
    table = Table(title=f"{shop['name']} · Meta Ads")
    table.add_column("figure")
    table.add_column("Storeline", justify="right", no_wrap=True)
    table.add_column("oracle", justify="right", no_wrap=True)
    table.add_column("", no_wrap=True)
    for figure, want in oracle.items():
        got = ours[figure]
        table.add_row(
            figure,
            "—" if got is None else f"{got:,.2f}",
            "—" if want is None else f"{want:,.2f}",
            Text("✓", style="green") if got == want else Text("✗", style="bold red"),
        )
    return table


def _traffic(shop: Mapping[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """(Storeline, oracle) GA4 figures over the window; users are GA4's per-day counts, so the
    range shows their mean (a sum would count returning users twice)."""
    days = shop["traffic"]
    sessions = sum(int(d["sessions"]) for d in days)
    active = [d for d in days if int(d["sessions"])]
    four, cent = Decimal("0.0001"), Decimal("0.01")
    revenue = sum((Decimal(d["purchase_revenue"]) for d in days), Decimal(0))

    def ratio(part: Decimal, whole: int, unit: Decimal) -> Decimal | None:
        return (part / whole).quantize(unit, ROUND_HALF_UP) if whole else None

    oracle: dict[str, Any] = {
        "sessions": sessions,
        "new users": sum(int(d["new_users"]) for d in days),
        "avg daily users": ratio(Decimal(sum(int(d["users"]) for d in active)), len(active), cent),
        "engagement rate": ratio(
            Decimal(sum(int(d["engaged_sessions"]) for d in days)), sessions, four
        ),
        "conversion rate": ratio(
            Decimal(sum(int(d["transactions"]) for d in days)), sessions, four
        ),
        "revenue / session": ratio(revenue, sessions, cent),
    }
    k = shop["kpis"]

    def dec(name: str) -> Decimal | None:
        return Decimal(k[name]) if k.get(name) is not None else None

    ours: dict[str, Any] = {
        "sessions": k.get("sessions"),
        "new users": k.get("new_users"),
        "avg daily users": dec("avg_daily_users"),
        "engagement rate": dec("engagement_rate"),
        "conversion rate": dec("conversion_rate"),
        "revenue / session": dec("revenue_per_session"),
    }
    return ours, oracle


def traffic_equal(shop: Mapping[str, Any]) -> bool:
    ours, oracle = _traffic(shop)
    return ours == oracle


def traffic_table(shop: Mapping[str, Any]) -> Table:
    ours, oracle = _traffic(shop)
    zone = shop["kpis"].get("traffic_timezone_matches_shop")
    table = Table(
        title=f"{shop['name']} · GA4",
        caption="property timezone = shop's" if zone is not False else "property timezone differs",
        caption_style="green" if zone is not False else "bold yellow",
    )
    table.add_column("figure")
    table.add_column("Storeline", justify="right", no_wrap=True)
    table.add_column("oracle", justify="right", no_wrap=True)
    table.add_column("", no_wrap=True)
    for figure, want in oracle.items():
        got = ours[figure]
        table.add_row(
            figure,
            "—" if got is None else f"{got:,}",
            "—" if want is None else f"{want:,}",
            Text("✓", style="green") if got == want else Text("✗", style="bold red"),
        )
    return table


def _pipeline(shop: Mapping[str, Any]) -> tuple[dict[str, Decimal], dict[str, Decimal]]:
    """(Storeline, oracle): the open amount of each open stage now and in all weighted by the
    stages' probabilities, and over the window the amount won and the win rate, won ÷ (won +
    lost) (stages without open deals are 0 on both sides)."""
    crm = shop["crm"]
    oracle = {f"open · {stage}": Decimal(v["amount"]) for stage, v in crm["open_by_stage"].items()}
    weighted = sum((Decimal(v["weighted"]) for v in crm["open_by_stage"].values()), Decimal(0))
    won = sum((Decimal(d["won_amount"]) for d in crm["days"]), Decimal(0))
    won_deals = sum(int(d["deals_won"]) for d in crm["days"])
    closed = won_deals + sum(int(d["deals_lost"]) for d in crm["days"])
    pipeline = shop["kpis"].get("pipeline") or {}
    ours = {f"open · {k}": Decimal(v) for k, v in (pipeline.get("open_by_stage") or {}).items()}
    for key in oracle.keys() | ours.keys():
        oracle.setdefault(key, Decimal(0))
        ours.setdefault(key, Decimal(0))
    oracle["weighted open"] = weighted
    by_stage = (pipeline.get("weighted_by_stage") or {}).values()
    ours["weighted open"] = sum((Decimal(v) for v in by_stage), Decimal(0))
    oracle["won (30 days)"] = won
    ours["won (30 days)"] = Decimal(pipeline.get("won_amount") or 0)
    rate = Decimal(won_deals) / closed if closed else Decimal(0)
    oracle["win rate (30 days)"] = rate.quantize(Decimal("0.0001"), ROUND_HALF_UP)
    ours["win rate (30 days)"] = Decimal(pipeline.get("win_rate") or 0)
    return ours, oracle


def pipeline_equal(shop: Mapping[str, Any]) -> bool:
    ours, oracle = _pipeline(shop)
    return bool(shop["kpis"].get("pipeline")) and ours == oracle


def pipeline_table(shop: Mapping[str, Any]) -> Table:
    ours, oracle = _pipeline(shop)
    table = Table(title=f"{shop['name']} · HubSpot · {shop['currency']}")
    table.add_column("figure")
    table.add_column("Storeline", justify="right", no_wrap=True)
    table.add_column("oracle", justify="right", no_wrap=True)
    table.add_column("", no_wrap=True)
    for figure in sorted(oracle, key=lambda f: (f.startswith("won"), f)):
        got, want = ours[figure], oracle[figure]
        table.add_row(
            figure,
            f"{got:,.2f}",
            f"{want:,.2f}",
            Text("✓", style="green") if got == want else Text("✗", style="bold red"),
        )
    return table
