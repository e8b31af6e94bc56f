"""GA4 connector settings (`GA4_*`): the Data API and OAuth token endpoint URLs (the sandbox is just
another URL), how much history and how many trailing days are read, paging and quota pacing."""

from __future__ import annotations

from functools import cache

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class Ga4Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="GA4_", extra="ignore")

    base_url: str = "https://analyticsdata.googleapis.com"
    token_url: str = "https://oauth2.googleapis.com/token"  # noqa: S105 - a URL, not a secret
    request_timeout_seconds: float = Field(default=60.0, gt=0)
    max_retries: int = Field(default=4, ge=0)
    retry_backoff_seconds: float = Field(default=1.0, ge=0)
    # Access tokens are refreshed this long before Google says they expire.
    token_leeway_seconds: int = Field(default=300, ge=0)
    # How far back a backfill reads: standard properties keep 14 months of event data.
    retention_months: int = Field(default=14, ge=1, le=50)
    # Days re-pulled by every incremental and replaced: GA4 restates a day for ~48 h after it.
    trailing_days: int = Field(default=3, ge=1, le=60)
    # Days whose figures GA4 has stopped restating: a day is final once this long after its end.
    settle_hours: int = Field(default=48, ge=0)
    # Day-level totals (users) are read this many days per request (cheap: one row per day);
    # the channel breakdown is always read one day per request, so it is never sampled.
    totals_chunk_days: int = Field(default=30, ge=1, le=90)
    page_size: int = Field(default=10_000, ge=1, le=250_000)
    # One-day breakdown requests in flight at once (Google allows 10 concurrent per property).
    concurrency: int = Field(default=4, ge=1, le=10)
    # Quota: a 429 whose bucket is unknown is retried after `quota_retry_seconds`; waits beyond
    # `max_quota_wait_seconds` in one job end it with a TransientError carrying retry_after.
    # Under `quota_slow_requests` requests' worth of tokens left, requests spread over the window.
    quota_retry_seconds: float = Field(default=30.0, gt=0)
    max_quota_wait_seconds: float = Field(default=300.0, gt=0)
    quota_slow_requests: int = Field(default=20, ge=0)
    staging_batch_bytes: int = Field(default=1 << 20, ge=1)

    @property
    def api_url(self) -> str:
        return f"{self.base_url.rstrip('/')}/v1beta"


@cache
def ga4_settings() -> Ga4Settings:
    return Ga4Settings()
