"""Meta Ads backfill of a large ad account (≥ 500 ads over 37 months), end to end over HTTP:
wall time, requests and async report runs against the minimum the API needs, rows/s into the
facts, and the worker's peak RSS at two account sizes (goal: flat, < 300 MB).

The sandbox runs in its own process (its insights generator must not share the worker's GIL or
count in its RSS); each size's backfill runs in a fresh worker process, so peak RSS is per size.
Postgres is a throwaway embedded server (or DATABASE_URL's, into a scratch database).

    python bench/meta.py [--campaigns 40,80]
"""

# ruff: noqa: E402 (imports follow the sys.path fix below, on purpose)
from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[0:1] = [str(ROOT)]

import argparse
import asyncio
import dataclasses
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
from storeline.platforms.meta.connector import MetaConnector
from storeline.platforms.meta.settings import MetaSettings
from storeline.worker.jobs.context import RunContext
from storeline.worker.jobs.contract import ClaimedJob, ShopInfo

HANDLE = "aurora-goods"


def _world(campaigns: int) -> Any:
    from sandbox.world import World  # the bench knows the sandbox; the product never does

    world = World.build(size="bench")
    shop_id = f"{HANDLE}.myshopify.com"
    shop = dataclasses.replace(world.shops[shop_id], meta_campaigns=campaigns)
    world.shops = {shop_id: shop}
    return world


def serve(campaigns: int) -> None:
    """Child: the Meta sandbox for one account size; prints its URL, runs until killed."""
    from sandbox import server

    running = server.start(_world(campaigns), platforms=["meta"])
    print(running.urls["meta"], flush=True)
    while True:
        time.sleep(3600)


async def backfill(dsn: str, base: str, campaigns: int) -> dict[str, Any]:
    """Child: one HISTORICAL_INIT through the connector, as the worker runs it."""
    shop = _world(campaigns).shops[f"{HANDLE}.myshopify.com"]
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
            "lease_token, lease_expires_at, started_at) VALUES ($1, 'META', 'HISTORICAL_INIT', "
            "'IN_PROGRESS', 1, $2, now() + interval '1 hour', now()) RETURNING id",
            shop.shop_id,
            token,
        )
    job = ClaimedJob(job_id, shop.shop_id, Platform.META, JobType.HISTORICAL_INIT, 1, 6, token, {})
    ctx = RunContext(
        pool=pool,
        job=job,
        shop=ShopInfo(shop.shop_id, shop.currency, shop.timezone),
        cursor={},
        secrets={"access_token": shop.meta_token},
        metadata={"ad_account_ids": [shop.meta_ad_account_id]},
    )
    settings = MetaSettings(base_url=base, chunk_days=90, poll_min_seconds=0.05,
                            poll_max_seconds=0.2)  # fmt: skip
    connector = MetaConnector(settings)
    started = time.perf_counter()
    await connector.run(ctx)
    wall = time.perf_counter() - started
    async with pool.acquire() as conn:
        facts = await conn.fetchval(
            "SELECT count(*) FROM core_warehouse.fact_marketing_campaign_daily"
        )
        ads = await conn.fetchval(
            "SELECT count(DISTINCT ad_id) FROM core_warehouse.fact_marketing_campaign_daily"
        )
        progress = await conn.fetchval(
            "SELECT progress FROM app_dashboard.sync_jobs WHERE id = $1", job_id
        )
    await pool.close()
    plan = next(v for k, v in progress.items() if k.startswith("meta_act_"))
    days = (date.fromisoformat(plan["until"]) - date.fromisoformat(plan["since"])).days + 1
    client = connector.last_client
    assert client is not None
    return {
        "wall": wall,
        "requests": client.http.stats.requests,
        "paced": client.http.stats.paced_wait,
        "facts": facts,
        "ads": ads,
        "days": days,
        "page_limit": settings.page_limit,
        "chunk_days": settings.chunk_days,
        "rss": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    }


def scratch_database() -> tuple[str, str, str]:
    admin = os.environ.get("DATABASE_URL") or embedded.start(
        Path(tempfile.gettempdir()) / "storeline-bench-pg"
    )
    name = f"bench_meta_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    dsn = with_database(admin, name)
    migrate.upgrade(dsn)
    return admin, name, dsn


def one_size(campaigns: int) -> dict[str, Any]:
    admin, name, dsn = scratch_database()
    script = str(Path(__file__).resolve())
    sandbox = subprocess.Popen(
        [sys.executable, script, "--serve", str(campaigns)], stdout=subprocess.PIPE, text=True
    )
    try:
        assert sandbox.stdout is not None
        base = sandbox.stdout.readline().strip()
        child = subprocess.run(
            [sys.executable, script, "--backfill", str(campaigns), "--dsn", dsn, "--base", base],
            capture_output=True, text=True, check=True,
        )  # fmt: skip
        return dict(json.loads(child.stdout.strip().splitlines()[-1]))
    finally:
        sandbox.terminate()
        sandbox.wait(timeout=10)
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--campaigns", default="40,80")
    parser.add_argument("--serve", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--backfill", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--dsn", help=argparse.SUPPRESS)
    parser.add_argument("--base", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve is not None:
        serve(args.serve)
        return
    if args.backfill is not None:
        print(json.dumps(asyncio.run(backfill(args.dsn, args.base, args.backfill))))
        return
    print(f"Meta Ads HISTORICAL_INIT, sandbox '{HANDLE}' (size bench), cores: {os.cpu_count()}")
    for campaigns in (int(c) for c in args.campaigns.split(",")):
        r = one_size(campaigns)
        runs = math.ceil(r["days"] / r["chunk_days"])
        # The least any client can send: the account node, the span probe, and per report run
        # one create, one poll and the pages its rows need at Meta's largest page (5000).
        pages = max(runs, math.ceil(r["facts"] / 5000))
        minimum = 2 + 2 * runs + pages
        print(f"  {campaigns} campaigns: {r['ads']} ads × {r['days']} days")
        print(f"    wall time          {r['wall']:8.1f} s")
        print(f"    ad-day facts       {r['facts']:8d}   ({r['facts'] / r['wall']:,.0f} rows/s)")
        print(f"    requests           {r['requests']:8d}   minimum {minimum}, "
              f"ratio {r['requests'] / minimum:.2f}")  # fmt: skip
        print(f"    async report runs  {runs:8d}   ({r['chunk_days']} days each)")
        print(f"    paced waiting      {r['paced']:8.1f} s")
        print(f"    worker peak RSS    {r['rss']:8.0f} MB   (goal < 300 MB, flat)")


if __name__ == "__main__":
    main()
