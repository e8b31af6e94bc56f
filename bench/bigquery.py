"""The BigQuery mirror of a large shop, then of an incremental that touched 1 % of its orders:
rows moved, load jobs, bytes uploaded, wall time per phase. Goal: the second mirror moves at most
2x the rows the incremental changed (measured in the same run, from the rows' mirror_version).

The warehouse is written straight into Postgres by tests/export/bigquery/world.sql (orders with
two line items, a shipping line and a transaction each, refunds, customers, 30 days of facts);
the incremental rewrites every 100th order and its line items, as the Shopify transform does.
BigQuery is the local emulator (sandbox/bigquery.py, its own process), Postgres a throwaway
embedded server (or DATABASE_URL's, into a scratch database). The export runs exactly as the
worker runs it, through a job context fenced by a real lease.

    python bench/bigquery.py [--orders 100000] [--touch-every 100]
"""

# ruff: noqa: E402 (imports follow the sys.path fix below, on purpose)
from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[0:1] = [str(ROOT)]

import argparse
import asyncio
import os
import resource
import tempfile
import time
import uuid
from typing import Any

import psycopg

from sandbox.bigquery import PROJECT, running_bigquery
from storeline.core import db, embedded, migrate
from storeline.core.dsn import with_database
from storeline.core.enums import JobType, Platform
from storeline.core.sql import load_folder
from storeline.core.sql import resource as sql_resource
from storeline.export.bigquery.client import make_client
from storeline.export.bigquery.mirror import Mirror, MirrorResult
from storeline.export.bigquery.settings import BigQuerySettings
from storeline.export.bigquery.tables import load as load_tables
from storeline.worker.jobs.context import RunContext
from storeline.worker.jobs.contract import ClaimedJob, ShopInfo

SHOP = "bench-mirror.myshopify.com"
WORLD = load_folder(sql_resource("tests", "export", "bigquery"), label="world")


def scratch_database() -> tuple[str, str, str]:
    admin = os.environ.get("DATABASE_URL") or embedded.start(
        Path(tempfile.gettempdir()) / "storeline-bench-pg"
    )
    name = f"bench_bigquery_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    dsn = with_database(admin, name)
    migrate.upgrade(dsn)
    return admin, name, dsn


async def mirror_once(pool: Any, settings: BigQuerySettings) -> MirrorResult:
    """One export under a real lease (the job row is IN_PROGRESS with our token)."""
    token = uuid.uuid4()
    job_id = await pool.fetchval(
        "INSERT INTO app_dashboard.sync_jobs (shop_id, platform, job_type, status, attempts, "
        "lease_token, lease_expires_at, started_at) VALUES ($1, 'BIGQUERY', 'INCREMENTAL', "
        "'IN_PROGRESS', 1, $2, now() + interval '1 hour', now()) RETURNING id",
        SHOP,
        token,
    )
    ctx = RunContext(
        pool=pool,
        job=ClaimedJob(job_id, SHOP, Platform.BIGQUERY, JobType.INCREMENTAL, 1, 6, token, {}),
        shop=ShopInfo(SHOP, "USD", "America/New_York"),
        cursor={},
        secrets={},
        metadata={},
    )
    client = make_client(settings)
    try:
        result = await Mirror(ctx, client, settings).run()
    finally:
        client.close()
    await pool.execute(
        "UPDATE app_dashboard.sync_jobs SET status = 'SUCCEEDED', lease_token = NULL, "
        "lease_expires_at = NULL, completed_at = now() WHERE id = $1",
        job_id,
    )
    return result


async def pending_rows(conn: Any) -> int:
    """Rows (and deletions) written since each table's watermark: what an export must move."""
    marks = {
        r["table_name"]: r["version"]
        for r in await conn.fetch(
            "SELECT table_name, version FROM app_dashboard.mirror_watermarks WHERE shop_id = $1",
            SHOP,
        )
    }
    total = 0
    for name, table in (await load_tables(conn)).items():
        since = marks.get(name, -1)
        total += await conn.fetchval(
            f"SELECT count(*) FROM {table.source} WHERE shop_id = $1 AND mirror_version > $2",
            SHOP,
            since,
        )
    return int(total)


async def run(dsn: str, endpoint: str, orders: int, every: int) -> dict[str, Any]:
    settings = BigQuerySettings(project=PROJECT, endpoint=endpoint, dataset_prefix="bench_")
    pool = await db.create_pool(dsn, min_size=1, max_size=4)
    try:
        started = time.perf_counter()
        await pool.execute(WORLD["world_agency"])
        made = await pool.fetchrow(WORLD["world_shop"], SHOP, orders, "USD", "America/New_York")
        build = time.perf_counter() - started
        first_pending = await pending_rows(pool)
        first = await mirror_once(pool, settings)
        touched = await pool.fetchval(WORLD["world_touch_orders"], SHOP, every)
        changed = await pending_rows(pool)
        second = await mirror_once(pool, settings)
        client = make_client(settings)
        try:
            dataset = settings.dataset_id(SHOP)
            check = next(
                iter(
                    client.query(
                        f"SELECT count(*) AS n FROM `{PROJECT}.{dataset}.orders` "
                        "WHERE financial_status = 'PARTIALLY_REFUNDED'"
                    ).result()
                )
            )["n"]
        finally:
            client.close()
        return {
            "made": dict(made),
            "build": build,
            "first_pending": first_pending,
            "first": first,
            "touched": touched,
            "changed": changed,
            "second": second,
            "check": check,
        }
    finally:
        await pool.close()


def show(label: str, r: MirrorResult) -> None:
    print(f"  {label}")
    print(f"    rows moved       {r.rows:10,d}")
    print(f"    load jobs        {r.load_jobs:10d}")
    print(f"    bytes uploaded   {r.bytes:10,d}   ({r.bytes / 1e6:.1f} MB Parquet)")
    print(f"    wall time        {r.seconds:10.2f} s")
    phases = "  ".join(f"{k} {v:.2f}" for k, v in sorted(r.timings.items()))
    print(f"      phases (s)     {phases}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--orders", type=int, default=100_000)
    parser.add_argument("--touch-every", type=int, default=100, help="100: 1 % of orders")
    args = parser.parse_args()
    admin, name, dsn = scratch_database()
    try:
        with running_bigquery() as endpoint:
            result = asyncio.run(run(dsn, endpoint, args.orders, args.touch_every))
    finally:
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    first: MirrorResult = result["first"]
    second: MirrorResult = result["second"]
    made = result["made"]
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"BigQuery mirror, {made['orders']:,} orders, cores: {os.cpu_count()} (emulator)")
    print(
        f"  warehouse rows     {result['first_pending']:10,d}   (built in {result['build']:.1f} s)"
    )
    show("first mirror (everything)", first)
    print(
        f"  incremental: {result['touched']:,} orders touched (1/{args.touch_every}), "
        f"{result['changed']:,} rows changed in Postgres"
    )
    show("second mirror (the incremental)", second)
    ratio = second.rows / max(result["changed"], 1)
    verdict = "ok" if ratio <= 2 else "MISSED"
    print(f"  moved / changed    {ratio:10.2f}   (goal <= 2: {verdict})")
    print(f"  moved / first      {second.rows / max(first.rows, 1):10.4f}")
    print(f"  check in BigQuery  {result['check']:10,d} touched orders read back")
    print(f"  peak RSS           {rss:10.0f} MB (bench process)")


if __name__ == "__main__":
    main()
