"""Bulk JSONL → typed tables: Storeline (copy_lines + transform) against dlt on the same file and
the same Postgres, plus the loader's peak RSS for two file sizes (goal: flat, < 300 MB).

The JSONL is a real sandbox bulk export (bulk_orders.graphql run as a bulk operation over HTTP:
orders with transactions and refund headers inline, line items and shipping lines as child
lines), written once to a cache file. Each measurement runs in its own subprocess so RSS is that
run's alone. dlt loads the same lines with the postgres destination, merge on id (one table per
__typename, nested lists as child tables, as dlt does).

    STORELINE_EXTRAS=dev,bench source scripts/_env.sh
    python bench/ingest.py [--orders 200000] [--small-orders 50000] [--skip-dlt]
"""

# ruff: noqa: E402  (bench/ must leave sys.path before anything imports `queue`; see below)
from __future__ import annotations

import sys
from pathlib import Path

# Run as a script, bench/ would shadow stdlib modules (bench/queue.py): drop it from the path.
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != Path(__file__).resolve().parent]

import argparse
import asyncio
import json
import resource
import shutil
import subprocess
import tempfile
import time
from collections.abc import AsyncIterator, Iterator
from typing import Any

import httpx
import orjson
import psycopg

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from storeline.core import db, embedded, migrate
from storeline.core.dsn import with_database
from storeline.platforms.shopify.documents import QUERIES

CACHE = Path(tempfile.gettempdir()) / "storeline-bench-ingest"
SHOP_ID = "bench-ingest.myshopify.com"
HISTORY_DAYS = 1500


# --- the JSONL file ------------------------------------------------------------------------------


def jsonl_file(orders: int) -> Path:
    """A cached sandbox bulk export with at least `orders` orders."""
    path = CACHE / f"orders-{orders}.jsonl"
    if not path.exists():
        CACHE.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".part")
        asyncio.run(_export(orders, tmp))
        tmp.rename(path)
    return path


async def _export(orders: int, target: Path) -> None:
    from sandbox import server
    from sandbox.world import World, make_shop

    # The generator's rhythm averages ~0.85 of orders_per_day; aim a little over the target.
    per_day = orders / HISTORY_DAYS / 0.8
    shop = make_shop("bench-ingest", "Bench Ingest", "USD", "America/New_York",
                     history_days=HISTORY_DAYS, orders_per_day=per_day, index=9)  # fmt: skip
    world = World(seed=11, shops={shop.shop_id: shop})
    running = server.start(world, ["shopify"])
    url = f"{running.urls['shopify']}/shops/{shop.handle}/admin/api/2026-01/graphql.json"
    headers = {"X-Shopify-Access-Token": shop.shopify_token}
    bulk = (QUERIES / "bulk_orders.graphql").read_text().replace("__FILTER__", "")
    try:
        async with httpx.AsyncClient(timeout=600, headers=headers) as client:
            run = (QUERIES / "bulk_run_query.graphql").read_text()
            body = (
                await client.post(url, json={"query": run, "variables": {"query": bulk}})
            ).json()
            op_id = body["data"]["bulkOperationRunQuery"]["bulkOperation"]["id"]
            poll = (QUERIES / "bulk_operation.graphql").read_text()
            while True:
                answer = await client.post(url, json={"query": poll, "variables": {"id": op_id}})
                op = answer.json()["data"]["bulkOperation"]
                if op["status"] == "COMPLETED":
                    break
                if op["status"] not in ("CREATED", "RUNNING"):
                    raise RuntimeError(f"bulk operation ended {op['status']}")
                await asyncio.sleep(1)
            async with client.stream("GET", op["url"]) as resp:
                with target.open("wb") as out:
                    async for chunk in resp.aiter_bytes():
                        out.write(chunk)
    finally:
        running.stop()
    print(f"exported {op['rootObjectCount']} orders, {op['objectCount']} lines to {target}")


def count_lines(path: Path) -> tuple[int, int]:
    orders = lines = 0
    with path.open("rb") as f:
        for line in f:
            lines += 1
            orders += b'"__parentId"' not in line
    return orders, lines


# --- the runs (each in its own subprocess) -------------------------------------------------------


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux: KiB


async def _file_lines(path: Path) -> AsyncIterator[bytes]:
    with path.open("rb") as f:
        for line in f:
            yield line


async def run_storeline(dsn: str, path: Path) -> dict[str, Any]:
    from storeline.platforms.shopify.load import copy_lines
    from storeline.platforms.shopify.transform import transform

    conn = await db.connect(dsn)
    try:
        started = time.perf_counter()
        async with conn.transaction():
            loaded = await copy_lines(conn, job_id=1, shop_id=SHOP_ID, lines=_file_lines(path))
            copied = time.perf_counter()
            result = await transform(conn, job_id=1, shop_id=SHOP_ID)
        done = time.perf_counter()
    finally:
        await conn.close()
    rows = sum(v for k, v in result.rows.items() if "upsert" in k)
    return {"seconds": done - started, "copy_seconds": copied - started,
            "transform_seconds": done - copied, "lines": loaded, "orders": result.orders,
            "rows": rows, "rss_mb": peak_rss_mb()}  # fmt: skip


def _records(path: Path) -> Iterator[dict[str, Any]]:
    with path.open("rb") as f:
        for line in f:
            yield orjson.loads(line)


def run_dlt(dsn: str, path: Path) -> dict[str, Any]:
    import dlt

    @dlt.resource(
        name="shopify",
        primary_key="id",
        write_disposition="merge",
        table_name=lambda item: str(item.get("__typename") or "Unknown").lower(),
    )
    def shopify() -> Iterator[dict[str, Any]]:
        yield from _records(path)

    # dlt needs a network-looking host; libpq lets the URI's ?host= (the embedded server's
    # socket directory) override it.
    parsed = psycopg.conninfo.conninfo_to_dict(dsn)
    credentials = {"drivername": "postgresql", "database": parsed.get("dbname"),
                   "username": parsed.get("user", "postgres"),
                   "password": parsed.get("password") or "unused", "host": "localhost",
                   "port": int(parsed.get("port") or 5432),
                   "query": {"host": parsed.get("host", "localhost")}}  # fmt: skip
    pipeline = dlt.pipeline(
        pipeline_name="bench_ingest",
        destination=dlt.destinations.postgres(credentials=credentials),
        dataset_name="dlt_shopify",
        pipelines_dir=str(CACHE / "dlt-pipelines"),
    )
    started = time.perf_counter()
    pipeline.run(shopify())  # extract + normalize + load, like copy_lines + transform
    seconds = time.perf_counter() - started
    counts = pipeline.last_trace.last_normalize_info.row_counts  # type: ignore[union-attr]
    rows = sum(n for table, n in counts.items() if not table.startswith("_dlt"))
    orders = counts.get("order", 0)
    return {"seconds": seconds, "orders": orders, "rows": rows, "rss_mb": peak_rss_mb()}


def subprocess_run(kind: str, dsn: str, path: Path) -> dict[str, Any]:
    out = subprocess.run(
        [sys.executable, __file__, "--child", kind, "--dsn", dsn, "--file", str(path)],
        check=False,
        capture_output=True,
        text=True,
    )
    if out.returncode != 0:
        raise SystemExit(f"{kind} run failed:\n{out.stderr[-3000:]}")
    return dict(json.loads(out.stdout.strip().splitlines()[-1]))


# --- orchestration -------------------------------------------------------------------------------


def fresh_database(admin_dsn: str, name: str) -> str:
    with psycopg.connect(admin_dsn, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')
    dsn = with_database(admin_dsn, name)
    migrate.upgrade(dsn)
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute("INSERT INTO app_dashboard.agencies (id, name) VALUES "
                     "('bbbbbbbb-0000-0000-0000-00000000beef', 'Bench')")  # fmt: skip
        conn.execute("INSERT INTO app_dashboard.shops (id, name, currency, timezone, agency_id) "
                     "VALUES (%s, 'Bench', 'USD', 'America/New_York', "
                     "'bbbbbbbb-0000-0000-0000-00000000beef')", (SHOP_ID,))  # fmt: skip
    return dsn


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--orders", type=int, default=200_000)
    parser.add_argument("--small-orders", type=int, default=50_000)
    parser.add_argument("--skip-dlt", action="store_true")
    parser.add_argument("--child", choices=("storeline", "dlt"))
    parser.add_argument("--dsn")
    parser.add_argument("--file", type=Path)
    args = parser.parse_args()
    if args.child:
        if args.child == "storeline":
            result = asyncio.run(run_storeline(args.dsn, args.file))
        else:
            result = run_dlt(args.dsn, args.file)
        print(json.dumps(result))
        return

    admin = embedded.start(CACHE / "pg")
    big, small = jsonl_file(args.orders), jsonl_file(args.small_orders)
    for label, path in (("small", small), ("large", big)):
        orders, lines = count_lines(path)
        size = path.stat().st_size / 2**20
        print(f"{label}: {path.name}: {orders} orders, {lines} lines, {size:.0f} MiB")

    figures: dict[str, dict[str, Any]] = {}
    for label, path in (("small", small), ("large", big)):
        dsn = fresh_database(admin, f"bench_storeline_{label}")
        figures[f"storeline-{label}"] = subprocess_run("storeline", dsn, path)
    if not args.skip_dlt:
        dsn = fresh_database(admin, "bench_dlt_large")
        shutil.rmtree(CACHE / "dlt-pipelines", ignore_errors=True)
        figures["dlt-large"] = subprocess_run("dlt", dsn, big)

    print()
    print(f"{'run':<18}{'seconds':>9}{'orders/s':>11}{'rows/s':>11}{'rows':>10}{'peak RSS':>11}")
    for name, f in figures.items():
        rate, row_rate = f["orders"] / f["seconds"], f["rows"] / f["seconds"]
        print(f"{name:<18}{f['seconds']:>9.1f}{rate:>11.0f}{row_rate:>11.0f}{f['rows']:>10}"
              f"{f['rss_mb']:>8.0f} MB")  # fmt: skip
    s = figures["storeline-large"]
    print(f"\nstoreline large: copy {s['copy_seconds']:.1f} s + transform "
          f"{s['transform_seconds']:.1f} s for {s['lines']} lines")  # fmt: skip
    if "dlt-large" in figures:
        d = figures["dlt-large"]
        ratio = (s["orders"] / s["seconds"]) / (d["orders"] / d["seconds"])
        print(f"orders/s ratio storeline/dlt: {ratio:.1f}x (goal >= 3x)")
    rss = (figures["storeline-small"]["rss_mb"], s["rss_mb"])
    print(f"storeline peak RSS small/large: {rss[0]:.0f} / {rss[1]:.0f} MB (goal: flat, < 300 MB)")


if __name__ == "__main__":
    main()
