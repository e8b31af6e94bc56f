"""`./scripts/demo`: embedded Postgres + sandbox shops → worker backfills → revenue vs oracle.

A rerun continues the same sandbox world: its clock moves forward to now, new orders appear, and
the worker's incremental syncs pick them up before the table is printed again. The embedded
Postgres (when DATABASE_URL is unset) stops when the demo exits, unless `--keep`.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import signal
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from zoneinfo import ZoneInfo

from rich.columns import Columns
from rich.console import Console
from rich.live import Live

from demo import api_process, progress, report, sandbox_process, seeding, state, worker_process
from demo import bigquery as bigquery_demo
from demo.seeding import DEMO_OWNER
from sandbox.bigquery import running_bigquery
from storeline.core import db, dsn, embedded, migrate
from storeline.core import seed as seeding_api
from storeline.core.enums import JobType, Platform
from storeline.core.errors import StorelineError
from storeline.core.settings import clear_caches, path_settings
from storeline.core.sql import parse, queries

QUERIES = parse((Path(__file__).parent / "queries.sql").read_text(), source="demo/queries.sql")
PLATFORMS = [Platform.SHOPIFY, Platform.META, Platform.GA4, Platform.HUBSPOT]


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="storeline demo", description=__doc__.splitlines()[0])
    parser.add_argument(
        "--size",
        choices=["tiny", "small", "demo"],
        default="demo",
        help="how much sandbox history (default: demo, two years)",
    )
    parser.add_argument("--slots", type=int, default=4, help="worker job slots")
    parser.add_argument("--timeout", type=float, default=900, help="give up after N seconds")
    parser.add_argument(
        "--bigquery",
        action="store_true",
        help="also mirror the shops into a local BigQuery emulator and query it back",
    )
    parser.add_argument(
        "--keep",
        action="store_true",
        help="leave the embedded Postgres running after the demo (stop it with "
        "`storeline db stop`); by default it stops when the demo exits",
    )
    return parser.parse_args(argv)


async def main_async(args: argparse.Namespace, console: Console) -> int:
    with contextlib.ExitStack() as stack:
        return await _run(args, console, stack)


async def _run(args: argparse.Namespace, console: Console, stack: contextlib.ExitStack) -> int:
    data_dir = path_settings().data_dir
    state.ensure_encryption_key(data_dir)
    clear_caches()
    demo = state.load_or_create(data_dir, args.size)
    target = dsn.resolve(keep_embedded=args.keep)
    console.print(f"[bold]Postgres[/] {dsn.redact(target)}")
    if args.keep and embedded.is_embedded(target):
        console.print("  kept running after the demo; stop it with `storeline db stop`")
    migrate.upgrade(target)

    console.print(
        f"[bold]Sandbox[/] starting ({args.size} world, anchor {demo.anchor:%Y-%m-%d %H:%M} UTC)"
    )
    sandbox = sandbox_process.start(size=args.size, anchor=demo.anchor)
    bigquery_endpoint: str | None = None
    if args.bigquery:
        bigquery_endpoint = stack.enter_context(running_bigquery())
        console.print(f"[bold]BigQuery[/] emulator at {bigquery_endpoint}")
    worker: subprocess.Popen[bytes] | None = None
    api: api_process.ApiProcess | None = None
    conn = await db.connect(target)
    try:
        behind = datetime.now(UTC) - demo.anchor
        if behind > timedelta(0):
            sandbox.admin(
                "POST", "/_sandbox/clock/advance", json={"minutes": behind.total_seconds() / 60}
            )
        shops = sandbox.admin("GET", "/_sandbox/shops")["shops"]
        shop_ids = [s["shop_id"] for s in shops]
        names = {s["shop_id"]: s["name"] for s in shops}

        connected = {
            (r["shop_id"], r["platform"])
            for r in await conn.fetch(QUERIES["demo_connected"], shop_ids)
        }
        if len(connected) < len(shop_ids) * len(PLATFORMS):
            counts = await seeding_api.apply(conn, seeding.seed_for(shops, PLATFORMS))
            console.print(
                f"[bold]Seeded[/] {counts['shops']} shops, {counts['credentials']} "
                f"credentials → {counts['jobs_enqueued']} backfills queued"
            )
        else:
            for shop_id in shop_ids:
                for platform in PLATFORMS:
                    await conn.execute(
                        queries("app_dashboard")["enqueue_job"],
                        shop_id,
                        platform,
                        JobType.INCREMENTAL,
                        50,
                        None,
                    )
            console.print("[bold]Rerun[/]: sandbox clock moved to now; incremental syncs queued")

        watched = [
            r["id"] for r in await conn.fetch(QUERIES["demo_live_jobs"], shop_ids, list(PLATFORMS))
        ]
        extra_env: dict[str, str] = {}
        if bigquery_endpoint is not None:
            await conn.execute(QUERIES["demo_bigquery_restart"])
            extra_env = bigquery_demo.worker_env(bigquery_endpoint)
        worker = worker_process.start(sandbox.urls, slots=args.slots, env=extra_env)
        started = time.monotonic()
        expected = len(watched)
        with Live(console=console, refresh_per_second=4) as live:
            while True:
                rows = await conn.fetch(QUERIES["demo_jobs"], watched)
                live.update(progress.job_table(rows, names, time.monotonic() - started))
                if progress.all_finished(rows, expected):
                    break
                if worker.poll() is not None:
                    console.print(f"[red]the worker exited with code {worker.returncode}[/]")
                    return 1
                if time.monotonic() - started > args.timeout:
                    console.print("[red]timed out waiting for the syncs[/]")
                    return 1
                await asyncio.sleep(0.5)

        # Read the figures as the agency's dashboard does: over HTTP, with the owner's token.
        api = api_process.start()
        summaries = []
        for shop in shops:
            today = datetime.now(ZoneInfo(shop["timezone"])).date()
            window = (today - timedelta(days=29), today)
            ours = api.get(
                f"/api/shops/{shop['shop_id']}/metrics",
                **{"from": window[0].isoformat(), "to": window[1].isoformat()},
            )["daily"]
            oracle = sandbox.admin(
                "GET",
                f"/_sandbox/oracle/shopify/{shop['shop_id']}",
                params={"from": window[0].isoformat(), "to": window[1].isoformat()},
            )["days"]
            kpis = api.get(
                f"/api/shops/{shop['shop_id']}/metrics",
                **{"from": window[0].isoformat(), "to": window[1].isoformat()},
            )["kpis"]
            ads = sandbox.admin(
                "GET",
                f"/_sandbox/oracle/meta/{shop['shop_id']}",
                params={"from": window[0].isoformat(), "to": window[1].isoformat()},
            )["days"]
            traffic = sandbox.admin(
                "GET",
                f"/_sandbox/oracle/ga4/{shop['shop_id']}",
                params={"from": window[0].isoformat(), "to": window[1].isoformat()},
            )["days"]
            crm = sandbox.admin(
                "GET",
                f"/_sandbox/oracle/hubspot/{shop['shop_id']}",
                params={"from": window[0].isoformat(), "to": window[1].isoformat()},
            )
            summaries.append(
                {**shop, "ours": ours, "oracle": oracle, "window": window, "kpis": kpis,
                 "ads": ads, "traffic": traffic, "crm": crm}
            )  # fmt: skip
        console.print()
        console.print(
            "[bold]Last 30 days of revenue, Storeline's API vs Shopify's sales-report "
            "definitions computed independently by the sandbox[/]"
        )
        console.print(Columns([report.revenue_table(s, s["window"]) for s in summaries]))
        console.print()
        console.print(
            "[bold]Same 30 days of Meta Ads spend, MER and ROAS, Storeline's API vs the "
            "sandbox's Meta oracle[/]"
        )
        console.print(Columns([report.marketing_table(s) for s in summaries]))
        console.print()
        console.print(
            "[bold]Same 30 days of GA4 traffic, Storeline's API vs the sandbox's GA4 oracle[/]"
        )
        console.print(Columns([report.traffic_table(s) for s in summaries]))
        console.print()
        console.print(
            "[bold]HubSpot pipeline (open amount now, and weighted by stage probability; amount "
            "won and win rate in the same 30 days), "
            "Storeline's API vs the sandbox's HubSpot oracle[/]"
        )
        console.print(Columns([report.pipeline_table(s) for s in summaries]))
        if bigquery_endpoint is not None:
            exports = await bigquery_demo.mirror(conn, shop_ids, QUERIES, within=args.timeout)
            windows = {s["shop_id"]: s["window"][0] for s in summaries}
            figures = bigquery_demo.read_back(bigquery_endpoint, windows)
            api_totals = {s["shop_id"]: report.totals(s["ours"])["total_sales"] for s in summaries}
            console.print()
            console.print(bigquery_demo.table(exports, figures, api_totals))
            failed = any(r["status"] != "SUCCEEDED" for r in exports)
            differ = any(
                Decimal(str(f["total_sales"] or 0)) != api_totals[f["shop_id"]] for f in figures
            )
            if failed or differ:
                console.print("[bold red]A BigQuery export failed or differs from Postgres.[/]")
                return 1
        console.print()
        dev_token = api.dev_token()
        path = f"/api/shops/{shops[0]['shop_id']}/sync-status"
        console.print(
            f"[bold]Call the API yourself[/]: `storeline token --user {DEMO_OWNER.email}` "
            "prints a development token (signed with STORELINE_API_JWT_SECRET), e.g. while "
            "this demo's API runs:"
        )
        console.print(
            f"curl -H 'Authorization: Bearer {dev_token}' {api.url}{path}",
            soft_wrap=True,
            highlight=False,
        )
        answered = api.status_with(dev_token, path)
        console.print(f"  → HTTP {answered} (the demo ran that request)")
        failed = any(r["status"] != "SUCCEEDED" for r in rows)
        mismatched = any(report.mismatched_days(s["ours"], s["oracle"]) for s in summaries)
        mismatched |= any(not report.marketing_equal(s) for s in summaries)
        mismatched |= any(not report.traffic_equal(s) for s in summaries)
        mismatched |= any(not report.pipeline_equal(s) for s in summaries)
        if failed or mismatched:
            console.print("[bold red]Some syncs failed or figures differ from the oracle.[/]")
            return 1
        console.print(
            "[bold green]Every shop's revenue, ad spend, traffic and pipeline equal the figures "
            "computed "
            "independently by the sandbox.[/] Rerun to see incrementals."
        )
        return 0
    finally:
        if worker is not None:
            worker_process.stop(worker)
        if api is not None:
            api.stop()
        await conn.close()
        sandbox.stop()


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    console = Console()
    # SIGTERM unwinds like Ctrl-C, so the finally blocks stop the worker and the sandbox.
    signal.signal(signal.SIGTERM, signal.default_int_handler)
    try:
        return asyncio.run(main_async(args, console))
    except StorelineError as exc:
        print(f"storeline demo: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
