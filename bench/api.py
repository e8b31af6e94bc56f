"""API read latency: 200 shops x 3 years of daily revenue, Meta spend and GA4 traffic, one agency
owner who sees all 200, RLS on (issue 18).

Figures: p50/p95/p99 of one shop's metrics over 365 days and of all shops side by side, at
concurrency 1, 8 and 32, over real HTTP against `storeline api` in its own process; and the KPI
statement under RLS read from the rollups (month totals plus the days around them, what the API
reads; docs/metrics.md, "How a range's KPIs are read") against the same figures computed straight
from the warehouse facts, so the rollups' gain is a ratio measured in the same run. Goal: p95 ≤
50 ms per shop and ≤ 150 ms for all shops on 2 cores.

Beside each line: the throughput it sustained (requests/s) and the queueing floor it implies.
Past concurrency 1 latency is mostly waiting: with c requests in flight on n CPUs each waits about
c x service time / n (Little's law), the service time being the mean at c=1. A p95 above the goal
while the floor is above it too is the machine's limit at that concurrency, not the code's.

Postgres is a throwaway embedded server. Not a test: nothing here asserts a time.

    python bench/api.py [--shops 200] [--days 1096] [--orders-per-day 2]
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
import random
import shutil
import socket
import statistics
import subprocess
import tempfile
import time
import uuid
from collections.abc import Awaitable, Callable
from datetime import date, timedelta
from typing import Any

import asyncpg
import httpx
import jwt
import psycopg

from storeline.core import db, embedded, migrate
from storeline.core.dsn import with_database
from storeline.core.rls import as_user
from storeline.core.sql import queries

SECRET = "bench-jwt-secret-with-at-least-32-bytes!"  # noqa: S105 (a throwaway test key)
OWNER = uuid.UUID("00000000-0000-0000-0000-0000000000be")
CONCURRENCY = (1, 8, 32)
RANGE_DAYS = 365
FACTS_ALL_SHOPS_MAX_CONCURRENCY = 8


def named(path: Path) -> dict[str, str]:
    """`-- name: x` sections of a .sql file."""
    out: dict[str, str] = {}
    name = None
    for line in path.read_text().splitlines():
        if line.startswith("-- name: "):
            name = line.removeprefix("-- name: ").strip()
            out[name] = ""
        elif name is not None:
            out[name] += line + "\n"
    return out


BENCH_SQL = named(Path(__file__).with_name("api.sql"))


def percentiles(samples: list[float]) -> str:
    if len(samples) < 2:
        samples = samples * 2
    cuts = statistics.quantiles(samples, n=100, method="inclusive")
    return f"p50 {cuts[49]:7.1f}  p95 {cuts[94]:7.1f}  p99 {cuts[98]:7.1f} ms"


THROUGHPUT: dict[str, float] = {}


async def measure(
    call: Callable[[], Awaitable[Any]], total: int, concurrency: int, label: str = ""
) -> list[float]:
    """Latency of `total` calls issued by `concurrency` workers, in ms; the calls per second
    this sustained go to THROUGHPUT[label]."""
    latencies: list[float] = []
    remaining = iter(range(total))

    async def worker() -> None:
        for _ in remaining:
            started = time.perf_counter()
            await call()
            latencies.append((time.perf_counter() - started) * 1000)

    started = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    THROUGHPUT[label] = total / (time.perf_counter() - started)
    return latencies


def queueing(label: str, concurrency: int, service_ms: float) -> str:
    """Throughput, and the latency floor queueing alone sets (Little's law): `concurrency`
    requests share the CPUs, so each waits about concurrency x service time / CPUs, where the
    service time is the mean at concurrency 1 (the machine is shared: fewer CPUs may be free)."""
    floor = max(service_ms, concurrency * service_ms / (os.cpu_count() or 1))
    return f"   {THROUGHPUT[label]:6.1f} req/s  queueing floor {floor:7.1f} ms"


async def seed(dsn: str, shops: int, days: int, per_day: int) -> None:
    conn = await asyncpg.connect(dsn)
    try:
        for step, args in (
            ("seed_tenancy", (shops, OWNER)),
            ("seed_orders", (days, per_day)),
            ("seed_lines", ()),
            ("seed_shipping", ()),
            ("seed_rollup", (days,)),
            ("seed_marketing", (days,)),
            ("seed_traffic", (days,)),
        ):
            started = time.perf_counter()
            status = await conn.execute(BENCH_SQL[step], *args)
            print(f"  {step:<15} {status:<20} {time.perf_counter() - started:6.1f} s", flush=True)
        await conn.execute("VACUUM ANALYZE")
    finally:
        await conn.close()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def start_api(dsn: str) -> tuple[subprocess.Popen[bytes], str]:
    port = free_port()
    env = {**os.environ, "DATABASE_URL": dsn, "SUPABASE_JWT_SECRET": SECRET}
    proc = subprocess.Popen(
        [sys.executable, "-c", "from storeline.api.main import main; raise SystemExit(main())",
         "--port", str(port)],
        env=env, cwd=ROOT,
    )  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{url}/healthz", timeout=1).status_code == 200:
                return proc, url
        except httpx.HTTPError:
            time.sleep(0.2)
    proc.kill()
    raise RuntimeError("the API did not start")


async def bench_sql(dsn: str, shop_ids: list[str], first: date, last: date) -> None:
    """The KPI statement under RLS: rollup (metrics_kpis) vs straight from the facts."""
    claims = {"sub": str(OWNER), "role": "authenticated", "aud": "authenticated"}
    pool = await db.create_pool(dsn, min_size=1, max_size=max(CONCURRENCY))
    rollup_sql = queries("reporting")["metrics_kpis"]

    def statement(sql: str, ids: list[str]) -> Callable[[], Awaitable[Any]]:
        async def call() -> Any:
            chosen = ids if len(ids) > 1 else [random.choice(shop_ids)]
            async with pool.acquire() as conn, as_user(conn, claims) as c:  # type: ignore[arg-type]
                if sql is rollup_sql:
                    return await c.fetch(
                        sql, chosen, [first] * len(chosen), [last] * len(chosen), 15
                    )
                return await c.fetch(sql, chosen, [first] * len(chosen), [last] * len(chosen))

        return call

    # Same figures both ways (a sanity check of the comparison, not of the product).
    one = [shop_ids[0]]
    async with pool.acquire() as conn, as_user(conn, claims) as c:  # type: ignore[arg-type]
        a = await c.fetchrow(rollup_sql, one, [first], [last], 15)
        b = await c.fetchrow(BENCH_SQL["facts_kpis"], one, [first], [last])
    same = (a["orders"], a["total_sales"], a["ad_spend"], a["sessions"]) == (
        b["orders"], b["total_sales"], b["ad_spend"], b["sessions"])  # fmt: skip
    print(f"\nKPI statement under RLS, {RANGE_DAYS} days (rollup and facts agree: {same})")
    for label, ids, total in (("one shop", one, 200), ("all shops", shop_ids, 24)):
        service = 0.0
        for c in CONCURRENCY:
            rollup = await measure(statement(rollup_sql, ids), total, c, "sql")
            service = service or statistics.mean(rollup)
            print(
                f"  {label:<9} c={c:<2} rollup {percentiles(rollup)}{queueing('sql', c, service)}",
                flush=True,
            )
            if len(ids) > 1 and c > FACTS_ALL_SHOPS_MAX_CONCURRENCY:
                # Seconds per statement: 32 at once would hold the shared machine for minutes.
                print(f"  {'':<9} {'':<4} facts  skipped (too slow at this concurrency)")
                continue
            facts = await measure(
                statement(BENCH_SQL["facts_kpis"], ids), total if len(ids) == 1 else max(c, 4), c
            )
            ratio = statistics.median(facts) / statistics.median(rollup)
            print(f"  {'':<9} {'':<4} facts  {percentiles(facts)}   facts/rollup p50 x{ratio:.1f}")
    await pool.close()


async def bench_http(url: str, shop_ids: list[str], first: date, last: date) -> None:
    token = jwt.encode(
        {"sub": str(OWNER), "aud": "authenticated", "role": "authenticated",
         "exp": int(time.time()) + 3600},
        SECRET, algorithm="HS256",
    )  # fmt: skip
    params = {"from": first.isoformat(), "to": last.isoformat()}
    limits = httpx.Limits(max_connections=max(CONCURRENCY))
    async with httpx.AsyncClient(
        base_url=url, headers={"Authorization": f"Bearer {token}"}, limits=limits, timeout=60
    ) as client:

        async def one_shop() -> None:
            shop = random.choice(shop_ids)
            r = await client.get(f"/api/shops/{shop}/metrics", params=params)
            r.raise_for_status()

        async def all_shops() -> None:
            r = await client.get("/api/metrics", params=params)
            r.raise_for_status()
            assert len(r.json()["shops"]) == len(shop_ids)

        await one_shop()
        await all_shops()  # warm: connections, plans
        print(f"\nHTTP (storeline api, its own process), {RANGE_DAYS} days")
        for label, call, total in (("one shop", one_shop, 200), ("all shops", all_shops, 24)):
            service = 0.0
            for c in CONCURRENCY:
                samples = await measure(call, total, c, "http")
                service = service or statistics.mean(samples)
                print(
                    f"  {label:<9} c={c:<2} {percentiles(samples)}{queueing('http', c, service)}",
                    flush=True,
                )


async def main(shops: int, days: int, per_day: int) -> None:
    data_dir = Path(tempfile.mkdtemp(prefix="storeline-bench-api-")) / "pg"
    admin = embedded.start(data_dir)
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute("CREATE DATABASE bench_api")
    dsn = with_database(admin, "bench_api")
    migrate.upgrade(dsn)
    print(f"{shops} shops × {days} days × {per_day} orders/day; {os.cpu_count()} CPUs (shared)")
    await seed(dsn, shops, days, per_day)
    shop_ids = [f"bench-{i:03d}.myshopify.com" for i in range(1, shops + 1)]
    last = date.today() - timedelta(days=1)
    first = last - timedelta(days=RANGE_DAYS - 1)
    await bench_sql(dsn, shop_ids, first, last)
    proc, url = start_api(dsn)
    try:
        await bench_http(url, shop_ids, first, last)
    finally:
        proc.terminate()
        proc.wait(timeout=10)
    embedded.release(data_dir)  # this process started it: stopped here, not at exit
    shutil.rmtree(data_dir.parent, ignore_errors=True)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--shops", type=int, default=200)
    parser.add_argument("--days", type=int, default=1096)
    parser.add_argument("--orders-per-day", type=int, default=2)
    args = parser.parse_args()
    asyncio.run(main(args.shops, args.days, args.orders_per_day))
