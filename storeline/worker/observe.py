"""The worker's Prometheus metrics, served on `STORELINE_WORKER_METRICS_PORT` (docs/operations.md
"Metrics").

Two kinds. What this process does is counted where it happens: jobs finished by platform, type
and outcome with their durations, rows staged, source API requests and throttles, lease losses,
scheduler ticks. What the queue looks like is read from Postgres every `metrics_sample_seconds`
by one sampling task (`sample`): jobs queued and running, ready queue depth and the age of its
oldest job, and staleness of every connected (shop, platform) as a histogram per platform.
Every replica exports the same queue figures: aggregate them with max(), not sum().

Labels are platforms, job types and outcomes, never a shop id or a job id (bounded series).
The platform of the job a coroutine serves is a context variable the engine sets once per job
(`job_scope`), so the connector kit can count a source call without being told whose it is.
"""

from __future__ import annotations

import asyncio
import contextvars
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

import asyncpg
import structlog
from prometheus_client import REGISTRY, Counter, Gauge, Histogram, start_http_server
from prometheus_client.core import GaugeMetricFamily, HistogramMetricFamily
from prometheus_client.registry import Collector

from storeline.core.sql import queries
from storeline.worker.logs import log

_platform: contextvars.ContextVar[str] = contextvars.ContextVar("platform", default="unknown")

JOB_SECONDS = (0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600, 1800, 3600)
STALENESS_SECONDS = (60, 120, 300, 600, 900, 1200, 1800, 3600, 7200, 21600, 86400)

JOBS_FINISHED = Counter(
    "storeline_jobs_finished_total",
    "Jobs this worker finished, by how they ended",
    ["platform", "job_type", "outcome"],
)
JOB_DURATION = Histogram(
    "storeline_job_duration_seconds",
    "Claim to outcome written, per attempt",
    ["platform", "job_type", "outcome"],
    buckets=JOB_SECONDS,
)
ROWS_SYNCED = Counter(
    "storeline_rows_synced_total", "Source rows committed to staging", ["platform"]
)
SOURCE_REQUESTS = Counter(
    "storeline_source_requests_total", "HTTP requests sent to a source API", ["platform"]
)
SOURCE_THROTTLED = Counter(
    "storeline_source_throttled_total", "Source answers that asked us to slow down", ["platform"]
)
LEASE_LOSSES = Counter(
    "storeline_lease_losses_total", "Jobs whose lease this worker lost", ["platform"]
)
SCHEDULER_TICK = Histogram(
    "storeline_scheduler_tick_seconds",
    "One staleness scheduler statement",
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5),
)
SCHEDULED = Counter("storeline_jobs_scheduled_total", "Jobs the scheduler enqueued")
SAMPLE_ERRORS = Gauge("storeline_metrics_sample_failing", "1 while reading the queue figures fails")


@contextmanager
def job_scope(job_id: int, shop_id: str, platform: str) -> Iterator[None]:
    """Inside a job's task: logs carry job id, shop and platform; source calls count for it."""
    token = _platform.set(platform)
    with structlog.contextvars.bound_contextvars(job_id=job_id, shop_id=shop_id, platform=platform):
        try:
            yield
        finally:
            _platform.reset(token)


def source_request(*, throttled: bool = False) -> None:
    """storeline/worker/kit/http.py: one request sent, or one throttled answer."""
    (SOURCE_THROTTLED if throttled else SOURCE_REQUESTS).labels(_platform.get()).inc()


def rows_synced(platform: str, count: int) -> None:
    if count:
        ROWS_SYNCED.labels(platform).inc(count)


def job_finished(platform: str, job_type: str, outcome: str, seconds: float) -> None:
    JOBS_FINISHED.labels(platform, job_type, outcome).inc()
    JOB_DURATION.labels(platform, job_type, outcome).observe(seconds)
    if outcome == "lease_lost":
        LEASE_LOSSES.labels(platform).inc()


def scheduler_tick(seconds: float, scheduled: int) -> None:
    SCHEDULER_TICK.observe(seconds)
    SCHEDULED.inc(scheduled)


class QueueCollector(Collector):
    """The last queue sample, as gauges and a staleness histogram (set by `sample`)."""

    def __init__(self) -> None:
        self.jobs: Sequence[asyncpg.Record] = ()
        # platform -> (cumulative counts per bound, pairs, sum of ages in seconds)
        self.staleness: dict[str, tuple[list[int], int, float]] = {}
        self.sampled = False

    def collect(self) -> Iterator[Any]:
        if not self.sampled:
            return
        jobs = GaugeMetricFamily(
            "storeline_jobs", "Jobs waiting or running now", labels=["status", "platform"]
        )
        ready = GaugeMetricFamily(
            "storeline_queue_depth", "QUEUED jobs due now (run_after passed)", labels=["platform"]
        )
        oldest = GaugeMetricFamily(
            "storeline_queue_oldest_seconds",
            "How long the oldest due QUEUED job has waited",
            labels=["platform"],
        )
        for row in self.jobs:
            jobs.add_metric([row["status"], row["platform"]], row["jobs"])
            if row["status"] == "QUEUED":
                ready.add_metric([row["platform"]], row["ready"])
                oldest.add_metric([row["platform"]], row["oldest_ready_seconds"] or 0.0)
        yield from (jobs, ready, oldest)
        stale = HistogramMetricFamily(
            "storeline_staleness_seconds",
            "Age of the last successful sync of each connected (shop, platform); never synced "
            "counts in +Inf only",
            labels=["platform"],
        )
        for platform, (counts, total, seconds) in sorted(self.staleness.items()):
            buckets = [
                (repr(float(le)), n) for le, n in zip(STALENESS_SECONDS, counts, strict=True)
            ]
            stale.add_metric([platform], [*buckets, ("+Inf", total)], seconds)
        yield stale


QUEUE = QueueCollector()
REGISTRY.register(QUEUE)


async def sample_once(pool: asyncpg.Pool) -> None:
    sql = queries("app_dashboard")
    jobs = await pool.fetch(sql["metrics_jobs"])
    rows = await pool.fetch(sql["metrics_staleness"], [float(b) for b in STALENESS_SECONDS])
    QUEUE.jobs, QUEUE.staleness, QUEUE.sampled = jobs, staleness_histogram(rows), True


def staleness_histogram(
    rows: Sequence[asyncpg.Record],
) -> dict[str, tuple[list[int], int, float]]:
    """Rows of (platform, bucket, pairs, sum_seconds) into cumulative Prometheus buckets: an age
    that passed `bucket` bounds is under every later bound."""
    out: dict[str, tuple[list[int], int, float]] = {}
    for row in rows:
        counts, total, seconds = out.get(row["platform"], ([0] * len(STALENESS_SECONDS), 0, 0.0))
        if row["bucket"] is not None:
            for k in range(row["bucket"], len(STALENESS_SECONDS)):
                counts[k] += row["pairs"]
        out[row["platform"]] = (counts, total + row["pairs"], seconds + row["sum_seconds"])
    return out


async def sample(pool: asyncpg.Pool, every: float) -> None:
    """Refresh the queue figures until cancelled; a failed read leaves the last ones."""
    while True:
        started = time.monotonic()
        try:
            await sample_once(pool)
            SAMPLE_ERRORS.set(0)
        except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError) as exc:
            SAMPLE_ERRORS.set(1)
            log.warning("metrics_sample_failed", error=f"{type(exc).__name__}: {exc}")
        await asyncio.sleep(max(0.0, every - (time.monotonic() - started)))


def serve(port: int, host: str) -> Any:
    """Start the /metrics HTTP server in a thread; returns the server (call `.shutdown()`)."""
    server, _thread = start_http_server(port, addr=host)
    log.info("metrics_listening", host=host, port=server.server_port)
    return server
