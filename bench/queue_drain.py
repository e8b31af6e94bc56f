"""Queue drain rate: Storeline's job engine against pgqueuer 1.6.0, same run, same Postgres.

Burn-down of N pre-inserted no-op jobs (docs/job-engine.md):
- storeline: the real `Worker` (claim → credential unseal → connector → batched fenced
  completion with cursor advance, events trigger, heartbeat, reaper, NOTIFY listener) with 8
  slots and a connector that returns at once; run with its default (claims and completions
  commit asynchronously, WorkerSettings.async_commit) and with every commit synchronous;
- pgqueuer: its public API, `pgq install` + autovac settings, 4 QueueManagers x batch 10 in drain
  mode (the "K/2 managers x batch 10" layout for K = 8 consumers).
Each contender has its own database on one embedded Postgres 16 (durable defaults); both run on
uvloop, as each does in production (`storeline worker`, `pgq run`); repetitions alternate the
order; the median is reported. Client and server share the machine's cores, so
the CPU each job costs is printed too: the client process's, and its database backends' (from
/proc, via psutil) — on a 2-core box the drain is bounded by their sum.

    STORELINE_EXTRAS=dev,bench source scripts/_env.sh
    python bench/queue_drain.py [--jobs 10000] [--reps 3] [--slots 8]
"""

from __future__ import annotations

import sys
from pathlib import Path

# Run as a script, this file's folder comes first on sys.path; a bench module named like a
# stdlib one (the old bench/queue.py) would shadow it: drop the folder first.
HERE = Path(__file__).resolve().parent
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != HERE]
ROOT = HERE.parent
sys.path.insert(0, str(ROOT))

import argparse  # noqa: E402
import asyncio  # noqa: E402
import os  # noqa: E402
import statistics  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
from typing import Any  # noqa: E402
from urllib.parse import urlsplit  # noqa: E402

import asyncpg  # noqa: E402
import psutil  # noqa: E402
import psycopg  # noqa: E402

from storeline.core import aio, db, embedded, migrate  # noqa: E402
from storeline.core.crypto import generate_key, seal  # noqa: E402
from storeline.core.dsn import with_database  # noqa: E402
from storeline.core.enums import Platform  # noqa: E402
from storeline.core.settings import clear_caches  # noqa: E402
from storeline.core.sql import parse  # noqa: E402
from storeline.platforms import SOURCES  # noqa: E402

SQL = parse((Path(__file__).parent / "queue_drain.sql").read_text())


class NoOp:
    """A connector that has nothing to fetch."""

    platform = Platform.SHOPIFY

    async def run(self, ctx: Any) -> None:
        return None


# --- storeline -----------------------------------------------------------------------------------


async def seed_storeline(dsn: str, jobs: int) -> None:
    conn = await db.connect(dsn)
    try:
        shops = (jobs + 3) // 4
        await conn.execute(SQL["seed_agency"])
        await conn.execute(SQL["seed_shops"], shops)
        have = await conn.fetchval("SELECT count(*) FROM app_dashboard.shop_credentials")
        if have < shops * 4:
            records = []
            for i in range(1, shops + 1):
                shop = f"bench{i}.myshopify.com"
                for platform in SOURCES:
                    sealed = seal({"access_token": "x"}, shop_id=shop, platform=platform)
                    records.append((shop, str(platform), sealed.key_id, sealed.ciphertext))
            await conn.execute("DELETE FROM app_dashboard.shop_credentials")
            await conn.copy_records_to_table(
                "shop_credentials",
                schema_name="app_dashboard",
                columns=["shop_id", "platform", "key_id", "ciphertext"],
                records=records,
            )
        await conn.execute(SQL["reset"])
        await conn.execute(SQL["seed_jobs"], jobs)
        await conn.execute(SQL["seed_cursors"])
        for table in ("shops", "shop_credentials", "sync_cursors", "sync_jobs", "sync_job_events"):
            await conn.execute(f"VACUUM ANALYZE app_dashboard.{table}")
    finally:
        await conn.close()


async def run_storeline(dsn: str, jobs: int, slots: int, *, durable: bool) -> dict[str, float]:
    from storeline.worker.jobs.runner import Worker
    from storeline.worker.settings import WorkerSettings

    await seed_storeline(dsn, jobs)
    settings = WorkerSettings(
        slots=slots, scheduler=False, poll_interval_seconds=1.0, async_commit=not durable
    )
    pool = await db.create_pool(dsn, min_size=slots, max_size=slots * 2 + 2)
    engine_pool = await db.create_pool(dsn, min_size=5, max_size=5)
    commits0 = await commits(dsn)
    worker = Worker(
        pool=pool,
        engine_pool=engine_pool,
        settings=settings,
        connectors=dict.fromkeys(Platform, NoOp),
        listen_dsn=dsn,
    )
    started, cpu0, server0 = time.perf_counter(), time.process_time(), backends_cpu(dsn)
    task = asyncio.create_task(worker.run())
    while worker.stats["succeeded"] + worker.stats["failed"] < jobs:
        if task.done():
            raise RuntimeError(f"worker stopped early: {dict(worker.stats)}")
        await asyncio.sleep(0.002)
    elapsed, cpu = time.perf_counter() - started, time.process_time() - cpu0
    server = cpu_spent(server0, backends_cpu(dsn))
    worker.stop(immediate=True)
    await task
    await pool.close()
    await engine_pool.close()
    committed = await commits(dsn) - commits0
    if worker.stats["succeeded"] != jobs:
        raise RuntimeError(f"not every job succeeded: {dict(worker.stats)}")
    return {
        "rate": jobs / elapsed,
        "seconds": elapsed,
        "empty_claims_per_job": worker.stats["empty_claims"] / jobs,
        "claims_per_job": worker.stats["claims"] / jobs,
        "commits_per_job": committed / jobs,
        "client_cpu_ms_per_job": cpu * 1000 / jobs,
        "server_cpu_ms_per_job": server * 1000 / jobs,
    }


# --- pgqueuer ------------------------------------------------------------------------------------


async def setup_pgqueuer(dsn: str) -> None:
    from pgqueuer.adapters.persistence.qb import QueryBuilderEnvironment
    from pgqueuer.db import AsyncpgDriver
    from pgqueuer.queries import Queries

    conn = await asyncpg.connect(dsn)
    try:
        queries = Queries(AsyncpgDriver(conn))
        if not await queries.schema_is_installed():
            await queries.install()
            await conn.execute(QueryBuilderEnvironment().build_optimize_autovacuum_query())
    finally:
        await conn.close()


async def run_pgqueuer(dsn: str, jobs: int, slots: int) -> dict[str, float]:
    from pgqueuer import QueueManager
    from pgqueuer.db import AsyncpgDriver
    from pgqueuer.models import Job
    from pgqueuer.queries import Queries
    from pgqueuer.types import QueueExecutionMode

    conn = await asyncpg.connect(dsn)
    await conn.execute("TRUNCATE pgqueuer, pgqueuer_log, pgqueuer_statistics")
    queries = Queries(AsyncpgDriver(conn))
    for start in range(0, jobs, 1000):
        n = min(1000, jobs - start)
        await queries.enqueue(["noop"] * n, [None] * n, [0] * n)
    await conn.execute("VACUUM ANALYZE pgqueuer")
    await conn.close()
    commits0 = await commits(dsn)

    done = 0
    managers = []
    conns = []
    for _ in range(max(1, slots // 2)):
        c = await asyncpg.connect(dsn)
        conns.append(c)
        qm = QueueManager(Queries(AsyncpgDriver(c)))

        @qm.entrypoint("noop")
        async def noop(job: Job) -> None:
            nonlocal done
            done += 1

        managers.append(qm)
    started, cpu0, server0 = time.perf_counter(), time.process_time(), backends_cpu(dsn)
    await asyncio.gather(*(qm.run(batch_size=10, mode=QueueExecutionMode.drain) for qm in managers))
    elapsed, cpu = time.perf_counter() - started, time.process_time() - cpu0
    server = cpu_spent(server0, backends_cpu(dsn))
    for c in conns:
        await c.close()
    committed = await commits(dsn) - commits0
    if done != jobs:
        raise RuntimeError(f"pgqueuer handled {done} of {jobs} jobs")
    return {
        "rate": jobs / elapsed,
        "seconds": elapsed,
        "commits_per_job": committed / jobs,
        "client_cpu_ms_per_job": cpu * 1000 / jobs,
        "server_cpu_ms_per_job": server * 1000 / jobs,
    }


def backends_cpu(dsn: str) -> dict[int, float]:
    """CPU seconds used so far by each backend connected to `dsn`'s database (by process title,
    `postgres: <user> <database> ...`). Backends that exit during a run are not counted: both
    contenders keep theirs open until the measurement ends."""
    database = f" {urlsplit(dsn).path.lstrip('/')} "
    found: dict[int, float] = {}
    for proc in psutil.process_iter(["cmdline"]):
        title = " ".join(proc.info["cmdline"] or [])
        if title.startswith("postgres:") and database in title:
            try:
                times = proc.cpu_times()
            except psutil.Error:
                continue
            found[proc.pid] = times.user + times.system
    return found


def cpu_spent(before: dict[int, float], after: dict[int, float]) -> float:
    return sum(used - before.get(pid, 0.0) for pid, used in after.items())


async def commits(dsn: str) -> int:
    """Committed transactions so far. Backends flush their counters when they exit or idle, so
    callers close their connections first and this waits a moment."""
    await asyncio.sleep(1.2)
    conn = await asyncpg.connect(dsn)
    try:
        return int(await conn.fetchval(SQL["commits"]))
    finally:
        await conn.close()


# --- harness -------------------------------------------------------------------------------------


def create_database(admin_dsn: str, name: str) -> str:
    with psycopg.connect(admin_dsn, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')
    return with_database(admin_dsn, name)


async def main(jobs: int, reps: int, slots: int) -> None:
    if "STORELINE_ENCRYPTION_KEYS" not in os.environ:
        os.environ["STORELINE_ENCRYPTION_KEYS"] = generate_key("bench")
    os.environ.setdefault("STORELINE_LOG_LEVEL", "WARNING")
    clear_caches()
    admin = embedded.start(Path(tempfile.gettempdir()) / "storeline-bench-queue-pg")
    ours_dsn = create_database(admin, "bench_storeline")
    migrate.upgrade(ours_dsn)
    theirs_dsn = create_database(admin, "bench_pgqueuer")
    await setup_pgqueuer(theirs_dsn)
    conn = await asyncpg.connect(admin)
    server = {r["name"]: r["setting"] for r in await conn.fetch(SQL["server_settings"])}
    await conn.close()
    print(f"Postgres {server.pop('server_version')} (embedded) {server}; {os.cpu_count()} CPUs")
    print(f"{jobs} no-op jobs, {slots} slots, {reps} repetitions (order alternates)\n")

    ours: list[dict[str, float]] = []
    durable: list[dict[str, float]] = []
    theirs: list[dict[str, float]] = []
    for rep in range(reps):
        order = [("storeline", ours), ("durable", durable), ("pgqueuer", theirs)]
        for name, results in order if rep % 2 == 0 else order[::-1]:
            if name == "pgqueuer":
                r = await run_pgqueuer(theirs_dsn, jobs, slots)
            else:
                r = await run_storeline(ours_dsn, jobs, slots, durable=name == "durable")
            results.append(r)
            extra = "".join(
                f", {k.replace('_', ' ')} {v:.3f}" for k, v in r.items() if k.endswith("per_job")
            )
            print(
                f"  rep {rep + 1} {name:9s} {r['rate']:8.0f} jobs/s ({r['seconds']:.2f} s{extra})"
            )

    def median(results: list[dict[str, float]], key: str) -> float:
        return statistics.median(r[key] for r in results)

    ours_rate, theirs_rate = median(ours, "rate"), median(theirs, "rate")
    durable_rate = median(durable, "rate")
    print()
    print(f"storeline drain rate : {ours_rate:8.0f} jobs/s (median; default async_commit)")
    print(
        f"  every commit synced: {durable_rate:8.0f} jobs/s (STORELINE_WORKER_ASYNC_COMMIT=false)"
    )
    print(f"pgqueuer drain rate  : {theirs_rate:8.0f} jobs/s (median)")
    print(f"ratio                : {ours_rate / theirs_rate:8.2f}x (goal >= 2x)")
    print(f"  durable ratio      : {durable_rate / theirs_rate:8.2f}x")
    print(f"empty claims per job : {median(ours, 'empty_claims_per_job'):8.4f} (storeline)")
    print(f"claims per job       : {median(ours, 'claims_per_job'):8.4f} (storeline)")
    print(
        f"commits per job      : {median(ours, 'commits_per_job'):8.3f} storeline, "
        f"{median(theirs, 'commits_per_job'):.3f} pgqueuer"
    )
    spent = median(ours, "client_cpu_ms_per_job") + median(ours, "server_cpu_ms_per_job")
    budget = (os.cpu_count() or 1) * 1000 / (2 * theirs_rate)
    print(
        f"CPU per job at 2x    : {budget * 1000:8.1f} us on {os.cpu_count()} cores at full use; "
        f"storeline spends {spent * 1000:.1f}"
    )
    for key in ("client_cpu_ms_per_job", "server_cpu_ms_per_job"):
        print(
            f"{key.replace('_ms_per_job', ' us/job').replace('_', ' '):21s}: "
            f"{median(ours, key) * 1000:8.1f} storeline, {median(theirs, key) * 1000:.1f} pgqueuer"
        )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--jobs", type=int, default=10_000)
    parser.add_argument("--reps", type=int, default=3)
    parser.add_argument("--slots", type=int, default=8)
    args = parser.parse_args()
    aio.run(main(args.jobs, args.reps, args.slots))
