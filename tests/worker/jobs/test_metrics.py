"""The worker's /metrics as a scraper sees it: a real `storeline worker` process with the fake
connector and STORELINE_WORKER_METRICS_PORT, plus the connector kit's source-call counters and the
log context of a job, in process."""

from __future__ import annotations

import socket
from collections.abc import Callable
from typing import Any

import asyncpg
import httpx
import structlog
from prometheus_client import REGISTRY
from prometheus_client.parser import text_string_to_metric_families

from sandbox import stripe as standin
from storeline.core.enums import Platform
from storeline.worker import observe
from storeline.worker.kit.http import RetryPolicy, SourceClient, Throttle
from tests.worker.jobs.conftest import FAST, add_shop, wait_until


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def samples(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    return {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
    }


async def test_a_worker_serves_jobs_queue_and_staleness_metrics(
    jobs_db: asyncpg.Connection, spawn_worker: Callable[..., Any]
) -> None:
    conn = jobs_db
    await add_shop(conn, "m1", (Platform.SHOPIFY, Platform.META), rows=2)
    await add_shop(conn, "m2", (Platform.SHOPIFY,), fail="terminal")
    # A key held by another worker, with a job due behind it for a minute: it stays queued.
    m3 = await add_shop(conn, "m3", (Platform.HUBSPOT,))
    await conn.execute(
        "UPDATE app_dashboard.sync_jobs SET status = 'IN_PROGRESS', lease_token = "
        "gen_random_uuid(), lease_expires_at = now() + interval '1 hour' WHERE shop_id = $1",
        m3,
    )
    await conn.execute(
        "INSERT INTO app_dashboard.sync_jobs (shop_id, platform, job_type, run_after) "
        "VALUES ($1, 'HUBSPOT', 'INCREMENTAL', now() - interval '60 seconds')",
        m3,
    )
    port = free_port()
    fast = {k: v for k, v in FAST.items() if k != "scheduler"}
    spawn_worker(
        {**fast, "scheduler": "false", "metrics_port": port, "metrics_sample_seconds": 0.2}
    )

    async def scraped() -> dict[Any, float] | None:
        try:
            async with httpx.AsyncClient() as client:
                text = (await client.get(f"http://127.0.0.1:{port}/metrics")).text
        except httpx.TransportError:
            return None
        found = samples(text)
        done = [
            (
                "storeline_jobs_finished_total",
                (
                    ("job_type", "HISTORICAL_INIT"),
                    ("outcome", outcome),
                    ("platform", platform),
                ),
            )
            for outcome, platform in (
                ("failed", "SHOPIFY"),
                ("succeeded", "SHOPIFY"),
                ("succeeded", "META"),
            )
        ]
        # Job counters move as jobs end; the queue figures only at the next sample. Wait for a
        # sample taken after both of m1's syncs, not merely for the counters.
        synced = [
            found.get(("storeline_staleness_seconds_bucket", (("le", "60.0"), ("platform", p))))
            for p in ("META", "SHOPIFY")
        ]
        return found if all(d in found for d in done) and synced == [1, 1] else None

    found = await wait_until(scraped, within=30)

    def value(name: str, **labels: str) -> float:
        return found[(name, tuple(sorted(labels.items())))]

    init = {"job_type": "HISTORICAL_INIT"}
    assert (
        value("storeline_jobs_finished_total", platform="SHOPIFY", outcome="succeeded", **init) == 1
    )
    assert value("storeline_jobs_finished_total", platform="META", outcome="succeeded", **init) == 1
    assert (
        value("storeline_job_duration_seconds_count", platform="META", outcome="succeeded", **init)
        == 1
    )
    assert value("storeline_rows_synced_total", platform="META") == 2
    assert value("storeline_jobs", status="QUEUED", platform="HUBSPOT") == 1
    assert value("storeline_jobs", status="IN_PROGRESS", platform="HUBSPOT") == 1
    assert value("storeline_queue_depth", platform="HUBSPOT") == 1
    assert value("storeline_queue_oldest_seconds", platform="HUBSPOT") >= 60
    # Staleness: m1 just synced; m2 (failed) and m3 (never ran) only count under +Inf.
    assert value("storeline_staleness_seconds_bucket", platform="SHOPIFY", le="60.0") == 1
    assert value("storeline_staleness_seconds_bucket", platform="SHOPIFY", le="+Inf") == 2
    assert value("storeline_staleness_seconds_count", platform="HUBSPOT") == 1
    assert value("storeline_staleness_seconds_bucket", platform="HUBSPOT", le="86400.0") == 0
    assert ("storeline_scheduler_tick_seconds_count", ()) in found


async def test_source_calls_and_throttles_count_for_the_job_platform() -> None:
    server = standin.start()
    answers = iter(["throttle", "ok"])

    def classify(response: httpx.Response) -> None:
        if next(answers) == "throttle":
            raise Throttle("throttled", "slow down", 0.01)

    def count(name: str) -> float:
        return REGISTRY.get_sample_value(name, {"platform": "GA4"}) or 0.0

    before = count("storeline_source_requests_total"), count("storeline_source_throttled_total")
    try:
        with observe.job_scope(7, "s1.myshopify.com", "GA4"):
            assert structlog.contextvars.get_contextvars() == {
                "job_id": 7, "shop_id": "s1.myshopify.com", "platform": "GA4",
            }  # fmt: skip
            async with SourceClient(classify=classify, policy=RetryPolicy(), timeout=5) as client:
                await client.request("GET", f"{server.url}/_stripe/requests")
    finally:
        server.stop()
    assert structlog.contextvars.get_contextvars() == {}
    after = count("storeline_source_requests_total"), count("storeline_source_throttled_total")
    assert (after[0] - before[0], after[1] - before[1]) == (2, 1)
