"""GA4 backfill of a busy property (14 months, the standard retention), end to end over HTTP:
wall time, requests and quota tokens used against the minimum an unsampled read needs, rows/s
into the facts, and the worker's peak RSS.

"Busy": the bench-size sandbox shop (~4,800 sessions a day and a long tail of referral sources,
so nearly every day is rolled into an "(other)" row, docs/platforms/ga4.md item 6). The minimum
is what any client needs to read it unsampled: the span probe, one day-totals request per
`totals_chunk_days`, one breakdown request per day (a longer range is sampled) and one request
per range whose users are kept (reports.user_ranges), each at GA4's largest page; its tokens
are what the sandbox charges those requests.

The sandbox runs in its own process (its report generator must not share the worker's GIL or
count in its RSS), the backfill in another. Postgres is a throwaway embedded server (or
DATABASE_URL's, into a scratch database).

    python bench/ga4.py [--months 14] [--concurrency 4]
"""

# ruff: noqa: E402 (imports follow the sys.path fix below, on purpose)
from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[0:1] = [str(ROOT)]

import argparse
import asyncio
import json
import math
import os
import resource
import subprocess
import tempfile
import time
import uuid
from datetime import date
from typing import Any

import psycopg

from storeline.core import db, embedded, migrate
from storeline.core.dsn import with_database
from storeline.core.enums import JobType, Platform
from storeline.platforms.ga4.connector import Ga4Connector
from storeline.platforms.ga4.quota import QuotaBook
from storeline.platforms.ga4.reports import user_ranges
from storeline.platforms.ga4.settings import Ga4Settings
from storeline.worker.jobs.context import RunContext
from storeline.worker.jobs.contract import ClaimedJob, ShopInfo

HANDLE = "aurora-goods"
SHOP_ID = f"{HANDLE}.myshopify.com"
MAX_PAGE = 250_000  # the Data API's largest `limit`


def _world() -> Any:
    from sandbox.world import World  # the bench knows the sandbox; the product never does

    world = World.build(size="bench")
    world.shops = {SHOP_ID: world.shops[SHOP_ID]}
    return world


def serve() -> None:
    """Child: the GA4 sandbox; prints its URL, runs until killed."""
    from sandbox import server

    running = server.start(_world(), platforms=["ga4"])
    print(running.urls["ga4"], flush=True)
    while True:
        time.sleep(3600)


async def backfill(dsn: str, base: str, months: int, concurrency: int) -> dict[str, Any]:
    """Child: one HISTORICAL_INIT through the connector, as the worker runs it."""
    shop = _world().shops[SHOP_ID]
    pool = await db.create_pool(dsn, min_size=1, max_size=4)
    token = uuid.uuid4()
    async with pool.acquire() as conn:
        agency = await conn.fetchval(
            "INSERT INTO app_dashboard.agencies (name) VALUES ('Bench') RETURNING id"
        )
        await conn.execute(
            "INSERT INTO app_dashboard.shops (id, name, currency, timezone, agency_id) "
            "VALUES ($1, $2, $3, $4, $5)",
            shop.shop_id, shop.name, shop.currency, shop.timezone, agency,
        )  # fmt: skip
        job_id = await conn.fetchval(
            "INSERT INTO app_dashboard.sync_jobs (shop_id, platform, job_type, status, attempts, "
            "lease_token, lease_expires_at, started_at) VALUES ($1, 'GA4', 'HISTORICAL_INIT', "
            "'IN_PROGRESS', 1, $2, now() + interval '1 hour', now()) RETURNING id",
            shop.shop_id,
            token,
        )
    job = ClaimedJob(job_id, shop.shop_id, Platform.GA4, JobType.HISTORICAL_INIT, 1, 6, token, {})
    ctx = RunContext(
        pool=pool,
        job=job,
        shop=ShopInfo(shop.shop_id, shop.currency, shop.timezone),
        cursor={},
        secrets={
            "client_id": shop.ga4_client_id,
            "client_secret": shop.ga4_client_secret,
            "refresh_token": shop.ga4_refresh_token,
        },
        metadata={"property_id": shop.ga4_property_id},
    )
    settings = Ga4Settings(
        base_url=base, token_url=f"{base}/token", retention_months=months, concurrency=concurrency
    )
    connector = Ga4Connector(settings, QuotaBook())
    started = time.perf_counter()
    await connector.run(ctx)
    wall = time.perf_counter() - started
    async with pool.acquire() as conn:
        rows = await conn.fetchval("SELECT count(*) FROM core_warehouse.fact_web_traffic_daily")
        days = await conn.fetchval(
            "SELECT count(*) FROM core_warehouse.fact_web_traffic_day_totals"
        )
        busiest = await conn.fetchval(
            "SELECT max(n) FROM (SELECT count(*) AS n FROM core_warehouse.fact_web_traffic_daily "
            "GROUP BY day) AS d"
        )
        other = await conn.fetchval(
            "SELECT count(*) FROM core_warehouse.fact_web_traffic_day_totals "
            "WHERE data_loss_from_other_row"
        )
        sessions = await conn.fetchval(
            "SELECT sum(sessions)::bigint FROM core_warehouse.fact_web_traffic_day_totals"
        )
        progress = await conn.fetchval(
            "SELECT progress FROM app_dashboard.sync_jobs WHERE id = $1", job_id
        )
    await pool.close()
    plan = progress["ga4"]
    span = (date.fromisoformat(plan["until"]) - date.fromisoformat(plan["since"])).days + 1
    client = connector.last_client
    assert client is not None
    return {
        "wall": wall,
        "requests": client.stats.requests,
        "retries": client.stats.retries,
        "throttled": client.stats.throttled,
        "paced": client.stats.paced_wait,
        "tokens": client.pacer.tokens_consumed,
        "rows": rows,
        "days": days,
        "span": span,
        "since": plan["since"],
        "until": plan["until"],
        "busiest_day_rows": busiest,
        "other_days": other,
        "sessions": sessions,
        "chunk": settings.totals_chunk_days,
        "page_size": settings.page_size,
        "rss": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    }


def minimum(r: dict[str, Any]) -> tuple[int, int]:
    """Requests and tokens the least unsampled read costs (module docstring)."""
    from sandbox.ga4.quota import request_cost

    totals = math.ceil(r["span"] / r["chunk"])
    per_day = max(1, math.ceil(r["busiest_day_rows"] / MAX_PAGE))
    ranges = user_ranges(date.fromisoformat(r["since"]), date.fromisoformat(r["until"]))
    requests = 1 + totals + r["span"] * per_day + len(ranges)
    cells = r["busiest_day_rows"]  # the rows GA4 scans per day (its cost grows with them)
    tokens = request_cost(r["span"], r["span"] * cells, 1)  # the span probe: date x sessions
    for i in range(totals):
        days = min(r["chunk"], r["span"] - i * r["chunk"])
        tokens += request_cost(days, days * cells, 1)
    tokens += r["span"] * request_cost(1, cells, 5)
    for first, last in ranges:  # range users: no dimension
        days = (last - first).days + 1
        tokens += request_cost(days, days * cells, 0)
    return requests, tokens


def scratch_database() -> tuple[str, str, str]:
    admin = os.environ.get("DATABASE_URL") or embedded.start(
        Path(tempfile.gettempdir()) / "storeline-bench-pg"
    )
    name = f"bench_ga4_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    dsn = with_database(admin, name)
    migrate.upgrade(dsn)
    return admin, name, dsn


def run(months: int, concurrency: int) -> dict[str, Any]:
    admin, name, dsn = scratch_database()
    script = str(Path(__file__).resolve())
    sandbox = subprocess.Popen(
        [sys.executable, script, "--serve"], stdout=subprocess.PIPE, text=True
    )
    try:
        assert sandbox.stdout is not None
        base = sandbox.stdout.readline().strip()
        child = subprocess.run(
            [sys.executable, script, "--backfill", "--dsn", dsn, "--base", base,
             "--months", str(months), "--concurrency", str(concurrency)],
            capture_output=True, text=True,
        )  # fmt: skip
        if child.returncode:
            raise SystemExit(f"the backfill failed:\n{child.stderr[-3000:]}")
        return dict(json.loads(child.stdout.strip().splitlines()[-1]))
    finally:
        sandbox.terminate()
        sandbox.wait(timeout=10)
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--months", type=int, default=14)
    parser.add_argument("--concurrency", type=int, default=4)
    parser.add_argument("--serve", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--backfill", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--dsn", help=argparse.SUPPRESS)
    parser.add_argument("--base", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        serve()
        return
    if args.backfill:
        result = asyncio.run(backfill(args.dsn, args.base, args.months, args.concurrency))
        print(json.dumps(result))
        return
    print(f"GA4 HISTORICAL_INIT, sandbox '{HANDLE}' (size bench), cores: {os.cpu_count()}")
    r = run(args.months, args.concurrency)
    least, least_tokens = minimum(r)
    print(f"  {args.months} months: {r['span']} days, {r['sessions']:,} sessions, "
          f"{r['other_days']} days with an (other) row")  # fmt: skip
    print(f"    wall time          {r['wall']:8.1f} s   ({args.concurrency} requests in flight)")
    print(f"    breakdown rows     {r['rows']:8d}   ({r['rows'] / r['wall']:,.0f} rows/s), "
          f"+ {r['days']} day totals")  # fmt: skip
    print(f"    requests           {r['requests']:8d}   minimum {least}, "
          f"ratio {r['requests'] / least:.2f} (page size {r['page_size']})")  # fmt: skip
    print(f"    quota tokens       {r['tokens']:8d}   minimum {least_tokens}, "
          f"ratio {r['tokens'] / least_tokens:.2f}")  # fmt: skip
    print(f"    retries/throttled  {r['retries']:4d} / {r['throttled']:<4d} "
          f"paced waiting {r['paced']:.1f} s")  # fmt: skip
    print(f"    worker peak RSS    {r['rss']:8.0f} MB")


if __name__ == "__main__":
    main()
