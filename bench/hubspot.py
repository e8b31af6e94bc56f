"""HubSpot backfill of a large portal (200k contacts, 50k deals and their companies), end to end
over HTTP: wall time, requests against the minimum the API needs, rows/s into the facts, the
worker's peak RSS, and the floor the portal's rate tier alone puts on wall time.

The minimum is what any client needs: every live and every archived record listed at the list
endpoints' largest page (100), associations included, plus the pipelines. The connector adds one
"newest stamp" search per kind (its first cursor). Requests are paced at the portal's tier
(`--tier` per 10 s: 100 for Free/Starter private apps, 190 for Professional/Enterprise), so
wall time is at least requests / tier * 10 s; the report prints that floor beside it.

The sandbox runs in its own process (its record generator must not share the worker's GIL or
count in its RSS), sized here: the bench-size shop's orders per day set for the deal count, and
contacts per order raised for the contact count (the sandbox's own default ratio is 3:1). The
backfill runs in another process. Postgres is a throwaway embedded server (or DATABASE_URL's,
into a scratch database).

    python bench/hubspot.py [--deals 50000] [--contacts 200000] [--tier 190]
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
from typing import Any

import psycopg

from storeline.core import db, embedded, migrate
from storeline.core.dsn import with_database
from storeline.core.enums import JobType, Platform
from storeline.platforms.hubspot.connector import HubSpotConnector
from storeline.platforms.hubspot.settings import HubSpotSettings
from storeline.worker.jobs.context import RunContext
from storeline.worker.jobs.contract import ClaimedJob, ShopInfo

HANDLE = "aurora-goods"
SHOP_ID = f"{HANDLE}.myshopify.com"
LIST_PAGE = 100  # the CRM v3 list endpoints' largest page
TABLES = {"deals": "crm_deals", "contacts": "crm_contacts", "companies": "crm_companies"}


def _world(deals: int, contacts: int) -> Any:
    """The portal sized for `deals` and `contacts` (sandbox/hubspot/catalog.py's rates)."""
    from sandbox.hubspot import catalog  # the bench knows the sandbox; the product never does
    from sandbox.hubspot.generate import Volume, start_of
    from sandbox.world import World

    world = World.build(size="bench")
    shop = world.shops[SHOP_ID]
    per_order = catalog.KINDS["deals"].per_order * contacts / deals
    catalog.KINDS["contacts"] = dataclasses.replace(catalog.KINDS["contacts"], per_order=per_order)
    per_day = deals / (catalog.KINDS["deals"].per_order * shop.history_days)
    for _ in range(2):  # weekdays and jitter: rescale on the count a size gives (uncached)
        sized = dataclasses.replace(shop, orders_per_day=per_day)
        made = Volume(world.seed, sized, "deals", start_of(world, sized)).count_by(world.now())
        per_day *= deals / max(made, 1)
    world.shops = {SHOP_ID: dataclasses.replace(shop, orders_per_day=per_day)}
    return world


def serve(deals: int, contacts: int) -> None:
    """Child: the HubSpot sandbox for one portal size; prints its URL, runs until killed."""
    from sandbox import server

    running = server.start(_world(deals, contacts), platforms=["hubspot"])
    print(running.urls["hubspot"], flush=True)
    while True:
        time.sleep(3600)


async def backfill(dsn: str, base: str, tier: int) -> dict[str, Any]:
    """Child: one HISTORICAL_INIT through the connector, as the worker runs it."""
    from sandbox.world import World

    shop = World.build(size="bench").shops[SHOP_ID]  # ids and secrets only
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
            "lease_token, lease_expires_at, started_at) VALUES ($1, 'HUBSPOT', "
            "'HISTORICAL_INIT', 'IN_PROGRESS', 1, $2, now() + interval '1 hour', now()) "
            "RETURNING id",
            shop.shop_id,
            token,
        )
    job = ClaimedJob(
        job_id, shop.shop_id, Platform.HUBSPOT, JobType.HISTORICAL_INIT, 1, 6, token, {}
    )
    ctx = RunContext(
        pool=pool,
        job=job,
        shop=ShopInfo(shop.shop_id, shop.currency, shop.timezone),
        cursor={},
        secrets={"access_token": shop.hubspot_token},
        metadata={"portal_id": shop.hubspot_portal_id},
    )
    settings = HubSpotSettings(base_url=base, requests_per_ten_seconds=tier)
    connector = HubSpotConnector(settings)
    started = time.perf_counter()
    await connector.run(ctx)
    wall = time.perf_counter() - started
    counts: dict[str, Any] = {}
    async with pool.acquire() as conn:
        for kind, table in TABLES.items():
            row = await conn.fetchrow(
                f"SELECT count(*) FILTER (WHERE NOT archived) AS live, "
                f"count(*) FILTER (WHERE archived) AS archived FROM core_warehouse.{table}"
            )
            counts[kind] = dict(row)
    await pool.close()
    client = connector.last_client
    assert client is not None
    return {
        "wall": wall,
        "requests": client.requests,
        "throttled": client.throttled,
        "paced": client.objects.stats.paced_wait + client.searches.stats.paced_wait,
        "counts": counts,
        "tier": tier,
        "rss": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    }


def scratch_database() -> tuple[str, str, str]:
    admin = os.environ.get("DATABASE_URL") or embedded.start(
        Path(tempfile.gettempdir()) / "storeline-bench-pg"
    )
    name = f"bench_hubspot_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    dsn = with_database(admin, name)
    migrate.upgrade(dsn)
    return admin, name, dsn


def run(deals: int, contacts: int, tier: int) -> dict[str, Any]:
    admin, name, dsn = scratch_database()
    script = str(Path(__file__).resolve())
    sandbox = subprocess.Popen(
        [sys.executable, script, "--serve", "--deals", str(deals), "--contacts", str(contacts)],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert sandbox.stdout is not None
        base = sandbox.stdout.readline().strip()
        child = subprocess.run(
            [sys.executable, script, "--backfill", "--dsn", dsn, "--base", base,
             "--tier", str(tier)],
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
    parser.add_argument("--deals", type=int, default=50_000)
    parser.add_argument("--contacts", type=int, default=200_000)
    parser.add_argument("--tier", type=int, default=190, help="requests per 10 s")
    parser.add_argument("--serve", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--backfill", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--dsn", help=argparse.SUPPRESS)
    parser.add_argument("--base", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        serve(args.deals, args.contacts)
        return
    if args.backfill:
        print(json.dumps(asyncio.run(backfill(args.dsn, args.base, args.tier))))
        return
    print(f"HubSpot HISTORICAL_INIT, sandbox '{HANDLE}' (size bench), cores: {os.cpu_count()}")
    r = run(args.deals, args.contacts, args.tier)
    counts = r["counts"]
    records = sum(c["live"] + c["archived"] for c in counts.values())
    pages = sum(
        max(1, math.ceil(c["live"] / LIST_PAGE)) + max(1, math.ceil(c["archived"] / LIST_PAGE))
        for c in counts.values()
    )
    least = pages + 1  # + the pipelines
    floor = r["requests"] / r["tier"] * 10
    print("  portal: " + ", ".join(
        f"{c['live']:,} {kind} (+{c['archived']:,} archived)" for kind, c in counts.items()
    ))  # fmt: skip
    print(f"    wall time          {r['wall']:8.1f} s   (tier floor {floor:.1f} s at "
          f"{r['tier']} requests / 10 s)")  # fmt: skip
    print(f"    records            {records:8d}   ({records / r['wall']:,.0f} rows/s)")
    print(f"    requests           {r['requests']:8d}   minimum {least}, "
          f"ratio {r['requests'] / least:.2f}")  # fmt: skip
    print(f"    throttled (429)    {r['throttled']:8d}   paced waiting {r['paced']:.1f} s")
    print(f"    worker peak RSS    {r['rss']:8.0f} MB")


if __name__ == "__main__":
    main()
