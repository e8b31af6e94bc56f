"""Worker settings (env prefix `STORELINE_WORKER_`), built by a cached factory, never at import.

Timings follow docs/job-engine.md D2: a lease of 60-120 s renewed every lease/3 on its own
timer, any worker reaps every ~20 s, so no job stays IN_PROGRESS past lease + reap interval.
Tests shrink all of them to fractions of a second.
"""

from __future__ import annotations

from functools import lru_cache

from pydantic import AliasChoices, Field, SecretStr, ValidationError, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from storeline.core.enums import Platform
from storeline.core.errors import ConfigError
from storeline.platforms import EXPORTS

EXPORT_NAMES = tuple(p.value for p in EXPORTS)


class WorkerSettings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="STORELINE_WORKER_", extra="ignore", populate_by_name=True
    )

    slots: int = Field(default=4, ge=1, le=256, description="jobs run concurrently")
    lease_seconds: float = Field(default=90.0, gt=0)
    heartbeat_seconds: float | None = Field(default=None, gt=0, description="default lease/3")
    reap_interval_seconds: float = Field(default=20.0, gt=0)
    poll_interval_seconds: float = Field(default=5.0, gt=0, description="fallback to NOTIFY")
    grace_seconds: float = Field(default=30.0, ge=0, description="SIGTERM: finish, then release")
    cancel_grace_seconds: float = Field(default=10.0, ge=0, description="cooperative cancel")
    job_timeout_seconds: float = Field(default=3600.0, gt=0)
    # A running job with no progress this long (no fenced commit, no source answer, no statement of
    # its own running) is stopped and retried (storeline/worker/jobs/lease.py). Longer than any wait
    # a connector sleeps on purpose (Shopify's throttle waits up to 300 s).
    stall_seconds: float = Field(default=900.0, gt=0)
    # Stop a job as soon as a database backend it holds is gone (storeline/worker/jobs/lease.py).
    # Needs direct or session-pooler connections, where a connection keeps its backend; turn it off
    # behind a transaction pooler (stall_seconds still catches a wedged job there).
    watch_backends: bool = True
    # Connectors' statements: one set-based upsert per table over a whole backfill can run for
    # minutes on a million-order shop; the kernel's 60 s default would fail it on every retry.
    connector_statement_timeout_seconds: float = Field(default=1800.0, gt=0)
    # Claims and completions (job status + cursor) commit asynchronously: a database crash can
    # lose the last ~wal_writer_delay of them, which only re-runs those jobs (the lease expires,
    # the reaper requeues, fenced writes and idempotent loads make a re-run harmless). Connector
    # data, failures, retries and credential changes stay synchronous. Off: every commit waits
    # for the WAL flush (about 3 ms each on a small VM disk: the drain-rate bottleneck).
    async_commit: bool = True
    backoff_base_seconds: float = Field(default=30.0, gt=0)
    backoff_cap_seconds: float = Field(default=1800.0, gt=0)

    scheduler: bool = True
    scheduler_interval_seconds: float = Field(default=60.0, gt=0)
    max_staleness_minutes: float = Field(
        default=15.0,
        gt=0,
        validation_alias=AliasChoices(
            "MAX_STALENESS_MINUTES", "STORELINE_WORKER_MAX_STALENESS_MINUTES"
        ),
    )
    # Expected job time plus one scheduler tick: enqueue this long before a shop goes stale.
    staleness_margin_seconds: float = Field(default=240.0, ge=0)

    # LISTEN needs a session: behind Supabase's transaction pooler point this at the direct or
    # session-pooler URL, or turn `listen` off and rely on polling (docs/job-engine.md D4).
    listen: bool = True
    listen_url: SecretStr | None = None

    # Overrides of storeline.worker.registry, e.g.
    # "SHOPIFY=pkg.mod:factory,*=tests.worker.jobs.fakes:FakeConnector".
    connectors: str = ""
    # Prometheus /metrics (storeline/worker/observe.py): off unless a port is set; 0 picks a free
    # one. Bind "::" or "0.0.0.0" to let a scraper on the private network reach it.
    metrics_port: int | None = Field(default=None, ge=0, le=65535)
    metrics_host: str = "127.0.0.1"
    # How often the queue figures (depth, oldest wait, staleness) are read from Postgres; 0: never.
    metrics_sample_seconds: float = Field(default=15.0, ge=0)
    event_retention_days: int = Field(default=30, ge=1)
    # Export targets enqueued for a shop after each of its syncs that changed data, e.g.
    # "BIGQUERY" (docs/bigquery.md); empty: none.
    exports: str = ""

    @model_validator(mode="after")
    def _coherent(self) -> WorkerSettings:
        if self.heartbeat_interval >= self.lease_seconds:
            raise ValueError("heartbeat_seconds must be shorter than lease_seconds")
        for name in filter(None, (n.strip().upper() for n in self.exports.split(","))):
            if name not in EXPORT_NAMES:
                raise ValueError(
                    f"exports: {name} is not an export target ({', '.join(EXPORT_NAMES)})"
                )
        if self.backoff_cap_seconds < self.backoff_base_seconds:
            raise ValueError("backoff_cap_seconds must be at least backoff_base_seconds")
        return self

    @property
    def export_platforms(self) -> tuple[Platform, ...]:
        names = [n.strip().upper() for n in self.exports.split(",") if n.strip()]
        return tuple(Platform(n) for n in names)

    @property
    def heartbeat_interval(self) -> float:
        return self.heartbeat_seconds or self.lease_seconds / 3

    @property
    def synchronous_commit(self) -> str:
        return "off" if self.async_commit else "on"

    @property
    def schedule_after_seconds(self) -> float:
        """Enqueue an incremental once the last success is this old."""
        return max(0.0, self.max_staleness_minutes * 60 - self.staleness_margin_seconds)


@lru_cache
def worker_settings() -> WorkerSettings:
    try:
        return WorkerSettings()
    except ValidationError as exc:
        first = exc.errors()[0]
        field = ".".join(str(p) for p in first["loc"]).upper() or "STORELINE_WORKER_*"
        raise ConfigError(f"invalid worker setting {field}: {first['msg']}") from None
