"""A live table of the demo's jobs: per shop and platform, state, records synced, time."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from rich.table import Table
from rich.text import Text

_JOB = {
    "HISTORICAL_INIT": "backfill",
    "HISTORICAL_REBUILD": "rebuild",
    "INCREMENTAL": "incremental",
}
_STYLE = {
    "QUEUED": "yellow",
    "IN_PROGRESS": "cyan",
    "SUCCEEDED": "green",
    "FAILED": "bold red",
    "CANCELLED": "magenta",
}


def job_table(rows: Sequence[Any], names: dict[str, str], elapsed: float) -> Table:
    table = Table(title=f"Storeline worker — syncing ({elapsed:,.0f} s)", expand=False)
    for header, justify in (
        ("shop", "left"),
        ("platform", "left"),
        ("job", "left"),
        ("state", "left"),
        ("records", "right"),
        ("attempts", "right"),
        ("time", "right"),
        ("error", "left"),
    ):
        table.add_column(header, justify=justify)  # type: ignore[arg-type]
    for row in rows:
        table.add_row(
            names.get(row["shop_id"], row["shop_id"]),
            row["platform"],
            _JOB.get(row["job_type"], row["job_type"]),
            Text(row["status"], style=_STYLE.get(row["status"], "")),
            f"{row['records_synced']:,}",
            f"{float(row['seconds'] or 0):,.1f} s",
            Text(row["error_code"] or "", style="red")
            if not row["attempts"] or row["attempts"] <= 1
            else Text(f"{row['error_code'] or ''} (attempt {row['attempts']})", style="red"),
        )
    return table


def all_finished(rows: Sequence[Any], expected: int) -> bool:
    return len(rows) >= expected and all(
        r["status"] in ("SUCCEEDED", "FAILED", "CANCELLED") for r in rows
    )
