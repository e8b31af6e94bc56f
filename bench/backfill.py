"""HISTORICAL_INIT of a ~100k-order sandbox shop, end to end over HTTP: seconds to the first
daily figures (Shopify's own report, provisional; goal <= 10 s), seconds to complete order-level
data, the rate-limit floor and their ratio (goal <= 1.15), wall time (goal < 60 s on 2 cores),
per phase, and the worker's peak RSS.

The sandbox runs as its own process (`python -m sandbox --size bench`, so its JSONL writer does
not share this process's GIL), Postgres is a throwaway embedded server (or DATABASE_URL's, into a
scratch database), and the job runs through the connector exactly as the worker runs it.

    python bench/backfill.py [--shop aurora-goods] [--size bench]
"""

# ruff: noqa: E402 (imports follow the sys.path fix below, on purpose)
from __future__ import annotations

import sys
from pathlib import Path

# Run as `python bench/backfill.py`: the script's folder comes first on sys.path, where
# bench/queue.py would shadow the standard library's `queue`; the repo root goes there instead.
ROOT = Path(__file__).resolve().parent.parent
sys.path[0:1] = [str(ROOT)]

import argparse
import asyncio
import os
import re
import resource
import subprocess
import tempfile
import time
import uuid
from typing import Any

import psycopg

from storeline.core import db, embedded, migrate
from storeline.core.dsn import with_database
from storeline.core.enums import JobType, Platform
from storeline.platforms.shopify.connector import ShopifyConnector
from storeline.platforms.shopify.settings import ShopifySettings
from storeline.worker.jobs.context import RunContext
from storeline.worker.jobs.contract import ClaimedJob, ShopInfo


def start_sandbox(size: str) -> tuple[subprocess.Popen[str], str]:
    proc = subprocess.Popen(
        [sys.executable, "-m", "sandbox", "--size", size],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert proc.stdout is not None
    deadline = time.monotonic() + 60
    for line in proc.stdout:
        found = re.match(r"\s+shopify\s+(http://\S+)", line)
        if found:
            return proc, found.group(1)
        if time.monotonic() > deadline:
            break
    proc.terminate()
    raise SystemExit("the sandbox did not report its Shopify URL")


def scratch_database() -> tuple[str, str, str]:
    admin = os.environ.get("DATABASE_URL") or embedded.start(
        Path(tempfile.gettempdir()) / "storeline-bench-pg"
    )
    name = f"bench_backfill_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    dsn = with_database(admin, name)
    migrate.upgrade(dsn)
    return admin, name, dsn


async def run(dsn: str, base: str, handle: str, size: str) -> dict[str, Any]:
    from sandbox.world import World  # the bench knows the sandbox's shops; the product never does

    world = World.build(size=size)
    shop = world.shops[f"{handle}.myshopify.com"]
    pool = await db.create_pool(dsn, min_size=1, max_size=4)
    token = uuid.uuid4()
    async with pool.acquire() as conn:
        agency = await conn.fetchval(
            "INSERT INTO app_dashboard.agencies (name) VALUES ('Bench') RETURNING id"
        )
        await conn.execute(
            "INSERT INTO app_dashboard.shops (id, name, currency, timezone, agency_id) "
            "VALUES ($1, $2, $3, $4, $5)",
            shop.shop_id,
            shop.name,
            shop.currency,
            shop.timezone,
            agency,
        )
        job_id = await conn.fetchval(
            "INSERT INTO app_dashboard.sync_jobs (shop_id, platform, job_type, status, attempts, "
            "lease_token, lease_expires_at, started_at) VALUES ($1, 'SHOPIFY', "
            "'HISTORICAL_INIT', 'IN_PROGRESS', 1, $2, now() + interval '1 hour', now()) "
            "RETURNING id",
            shop.shop_id,
            token,
        )
    job = ClaimedJob(
        job_id, shop.shop_id, Platform.SHOPIFY, JobType.HISTORICAL_INIT, 1, 6, token, {}
    )
    ctx = RunContext(
        pool=pool,
        job=job,
        shop=ShopInfo(shop.shop_id, shop.currency, shop.timezone),
        cursor={},
        secrets={"access_token": shop.shopify_token},
        metadata={},
    )
    settings = ShopifySettings(base_url=f"{base}/shops/{{handle}}", poll_max_seconds=1.0)
    connector = ShopifyConnector(settings)
    started = time.perf_counter()
    seen: dict[str, float] = {}
    watcher = asyncio.create_task(watch(pool, shop.shop_id, started, seen))
    try:
        await connector.run(ctx)
    finally:
        watcher.cancel()
        if connector.last_run is not None:
            print(f"  phases so far: {connector.last_run.timings}", flush=True)
    wall = time.perf_counter() - started
    async with pool.acquire() as conn:
        counts = {
            table: await conn.fetchval(f"SELECT count(*) FROM core_warehouse.{table}")
            for table in ("orders", "order_line_items", "refunds", "refund_line_items", "customers")
        }
        records = await conn.fetchval(
            "SELECT records_synced FROM app_dashboard.sync_jobs WHERE id = $1", job_id
        )
        provisional = await conn.fetchval(
            "SELECT count(*) FROM reporting.shopify_reported_daily WHERE shop_id = $1",
            shop.shop_id,
        )
    await pool.close()
    sync = connector.last_run
    assert sync is not None
    return {
        "wall": wall,
        "timings": sync.timings,
        "requests": sync.client.requests,
        "throttled": sync.client.throttled,
        "points": sync.client.points,
        "bucket": (sync.client.bucket.maximum, sync.client.bucket.restore_rate),
        "records": records,
        "counts": counts,
        "first_figures": seen.get("first_figures"),
        "order_level": seen.get("order_level", wall),
        "provisional_days": provisional,
    }


async def watch(pool: Any, shop_id: str, started: float, seen: dict[str, float]) -> None:
    """What a dashboard reading the database would see, polled every 20 ms: when the shop's
    first daily figures appear (Shopify's report, provisional) and when order-level data has
    landed (the transform's commit marks the coverage)."""
    while "order_level" not in seen:
        async with pool.acquire() as conn:
            figures = await conn.fetchval(
                "SELECT count(*) FROM reporting.daily_figures WHERE shop_id = $1", shop_id
            )
            covered = await conn.fetchval(
                "SELECT count(*) FROM reporting.shopify_order_coverage WHERE shop_id = $1", shop_id
            )
        now = time.perf_counter() - started
        if figures and "first_figures" not in seen:
            seen["first_figures"] = now
        if covered:
            seen["order_level"] = now
        await asyncio.sleep(0.02)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--shop", default="aurora-goods")
    parser.add_argument("--size", default="bench")
    args = parser.parse_args()
    admin, name, dsn = scratch_database()
    proc, base = start_sandbox(args.size)
    try:
        result = asyncio.run(run(dsn, base, args.shop, args.size))
    finally:
        proc.terminate()
        proc.wait(timeout=10)
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    counts = result["counts"]
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"HISTORICAL_INIT {args.shop} (size {args.size}), cores: {os.cpu_count()}")
    first = result["first_figures"]
    shown = f"{first:8.1f} s" if first is not None else "   never  "
    print(f"  first daily figures {shown}   (goal <= 10 s; Shopify's report, provisional;"
          f" {result['provisional_days']} days read)")  # fmt: skip
    print(f"  order-level data   {result['order_level']:8.1f} s")
    print(f"  wall time          {result['wall']:8.1f} s   (goal < 60 s; incl. reconciliation)")
    for phase, seconds in result["timings"].items():
        print(f"    {phase:<16} {seconds:8.1f} s")
    rate = counts["orders"] / result["wall"]
    print(f"  orders             {counts['orders']:8d}   ({rate:,.0f} orders/s)")
    print(f"  line items         {counts['order_line_items']:8d}")
    print(f"  refunds / lines    {counts['refunds']:8d} / {counts['refund_line_items']}")
    print(f"  customers          {counts['customers']:8d}")
    print(f"  staged lines       {result['records']:8d}")
    print(f"  API requests       {result['requests']:8d}   throttled {result['throttled']}")
    # The rate limit sets a floor no client can beat: points spent beyond the full bucket
    # arrive at the plan's restore rate.
    maximum, rate = result["bucket"]
    floor = max(0.0, result["points"] - maximum) / rate
    print(f"  API points spent   {result['points']:8.0f}   (bucket {maximum:.0f}, {rate:.0f}/s)")
    ratio = f"{result['order_level'] / floor:.2f}" if floor > 0 else "n/a (within the bucket)"
    print(f"  rate-limit floor   {floor:8.1f} s   order-level / floor {ratio}   (goal <= 1.15)")
    print(f"  worker peak RSS    {rss:8.0f} MB")


if __name__ == "__main__":
    main()
