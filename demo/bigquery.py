"""`--bigquery`: the demo's shops mirrored into the local BigQuery emulator by the worker's
export jobs, and one query read back from BigQuery (docs/bigquery.md)."""

from __future__ import annotations

import asyncio
import time
from datetime import date
from decimal import Decimal
from typing import Any

import asyncpg
from google.api_core.client_options import ClientOptions
from google.auth.credentials import AnonymousCredentials
from google.cloud import bigquery
from rich.table import Table

from sandbox.bigquery import PROJECT
from storeline.core.enums import JobType, Platform
from storeline.core.sql import queries
from storeline.export.bigquery.settings import BigQuerySettings


def worker_env(endpoint: str) -> dict[str, str]:
    """What makes the worker export after every sync that changed data, into the emulator."""
    return {
        "STORELINE_BIGQUERY_PROJECT": PROJECT,
        "STORELINE_BIGQUERY_ENDPOINT": endpoint,
        "STORELINE_WORKER_EXPORTS": Platform.BIGQUERY.value,
    }


async def mirror(
    conn: asyncpg.Connection, shop_ids: list[str], q: dict[str, str], *, within: float
) -> list[asyncpg.Record]:
    """Ask for one more export per shop (it folds into one already queued) and wait for all."""
    for shop_id in shop_ids:
        await conn.execute(
            queries("app_dashboard")["enqueue_job"],
            shop_id,
            Platform.BIGQUERY,
            JobType.INCREMENTAL,
            50,
            None,
        )
    deadline = time.monotonic() + within
    while await conn.fetchval(q["demo_bigquery_pending"], shop_ids):
        if time.monotonic() > deadline:
            raise TimeoutError("the BigQuery exports did not finish")
        await asyncio.sleep(0.5)
    return list(await conn.fetch(q["demo_bigquery_last"], shop_ids))


def read_back(endpoint: str, windows: dict[str, date]) -> list[dict[str, Any]]:
    """One query per shop's dataset: revenue since the start of its 30-day window, from the
    mirrored reporting.daily_revenue view."""
    settings = BigQuerySettings(project=PROJECT, endpoint=endpoint)
    client = bigquery.Client(
        project=PROJECT,
        credentials=AnonymousCredentials(),  # type: ignore[no-untyped-call]
        client_options=ClientOptions(api_endpoint=endpoint),
    )
    try:
        found = []
        for shop_id, since in windows.items():
            dataset = settings.dataset_id(shop_id)
            sql = (
                "SELECT count(*) AS days, sum(orders) AS orders, sum(total_sales) AS total_sales, "
                f"any_value(currency) AS currency FROM `{PROJECT}.{dataset}.daily_revenue` "
                f"WHERE day >= DATE '{since.isoformat()}'"
            )
            row = next(iter(client.query(sql).result()))
            found.append({"shop_id": shop_id, "dataset": dataset, **dict(row.items())})
        return found
    finally:
        client.close()  # type: ignore[no-untyped-call]


def table(
    exports: list[asyncpg.Record], figures: list[dict[str, Any]], api: dict[str, Decimal]
) -> Table:
    """BigQuery's figure beside the API's (Postgres) for the same days."""
    out = Table(title="Last 30 days of total sales, read back from BigQuery (emulator)")
    out.add_column("dataset")
    out.add_column("rows mirrored", justify="right")
    out.add_column("BigQuery", justify="right")
    out.add_column("API", justify="right")
    out.add_column("")
    status = {r["shop_id"]: r for r in exports}
    for f in figures:
        job = status.get(f["shop_id"])
        ours = api.get(f["shop_id"], Decimal(0))
        bq = Decimal(str(f["total_sales"] or 0))
        ok = job is not None and job["status"] == "SUCCEEDED" and bq == ours
        out.add_row(
            f["dataset"],
            f"{job['mirrored'] or 0:,}" if job else "-",
            f"{bq:,.2f}",
            f"{ours:,.2f} {f['currency'] or ''}",
            "✓" if ok else "✗",
        )
    return out
