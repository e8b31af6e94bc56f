"""A connector for engine tests, steered by the credential's metadata so a worker in another
process (the SIGKILL/SIGTERM tests) behaves as the test wants:

    rows            chunks to load (default 3), each in its own fenced transaction
    chunk_seconds   sleep before each chunk (default 0)
    fail            "transient" | "terminal" | "credential" | "crash" (default: none)
    fail_before     fail only while job.attempts < this (default: always)
    fail_runs       fail only the job's first N runs, counted by its claims (attempts do not
                    count runs: a stronger request merged into a job resets them)
    ignore_cancel   never call check_cancelled (the engine must force the stop)
    busy_seconds    run a statement this long in each chunk's fenced transaction (pg_sleep)
"""

from __future__ import annotations

import asyncio
from collections import Counter
from pathlib import Path

from storeline.core.enums import Platform
from storeline.core.sql import parse
from storeline.worker.errors import CredentialError, TerminalError, TransientError
from storeline.worker.jobs.contract import JobContext

SQL = parse((Path(__file__).parent / "fake.sql").read_text())

# In-process race detector: (shop, platform) → runs in flight; OVERLAPS records any second run.
ACTIVE: Counter[tuple[str, str]] = Counter()
OVERLAPS: list[tuple[str, str]] = []


class FakeConnector:
    platform = Platform.SHOPIFY  # serves every platform in tests

    async def run(self, ctx: JobContext) -> None:
        job, meta = ctx.job, ctx.metadata
        key = (job.shop_id, str(job.platform))
        ACTIVE[key] += 1
        if ACTIVE[key] > 1:
            OVERLAPS.append(key)
        try:
            for chunk in range(int(meta.get("rows", 3))):
                await asyncio.sleep(float(meta.get("chunk_seconds", 0)))
                if not meta.get("ignore_cancel"):
                    ctx.check_cancelled()
                async with ctx.fenced() as conn:
                    if meta.get("busy_seconds"):
                        await conn.execute("SELECT pg_sleep($1)", float(meta["busy_seconds"]))
                    await conn.execute(
                        SQL["replace_chunk"],
                        job.shop_id,
                        job.platform,
                        chunk,
                        job.id,
                        job.attempts,
                    )
                await ctx.add_records(1)
                await ctx.save_progress(chunk=chunk)
            failing = meta.get("fail")
            if (
                failing
                and job.attempts < int(meta.get("fail_before", 1_000_000))
                and await _within_failing_runs(ctx, meta.get("fail_runs"))
            ):
                raise _failure(str(failing))
            ctx.set_cursor({"rows": int(meta.get("rows", 3)), "job_id": job.id})
        finally:
            ACTIVE[key] -= 1


async def _within_failing_runs(ctx: JobContext, fail_runs: object) -> bool:
    if fail_runs is None:
        return True
    runs = await ctx.pool.fetchval(SQL["job_runs"], ctx.job.id)
    return int(runs) <= int(str(fail_runs))


def _failure(kind: str) -> Exception:
    if kind == "transient":
        return TransientError("upstream returned 503", code="upstream_unavailable", task="fetch")
    if kind == "terminal":
        return TerminalError("shop has no online store", code="unsupported_shop", task="fetch")
    if kind == "credential":
        # The token must never reach the job's error or the credential's status reason.
        return CredentialError(
            "401 Unauthorized for token shpat_0123456789abcdef", code="invalid_token"
        )
    return RuntimeError("bug in connector: Bearer sk_live_secret leaked?")
