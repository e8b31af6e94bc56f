"""Meta connector settings (`META_*`): the Marketing API version and base URL (the sandbox is just
another URL), how history is chunked, when to use async report runs, and how to pace."""

from __future__ import annotations

from functools import cache

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class MetaSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="META_", extra="ignore")

    base_url: str = "https://graph.facebook.com"
    api_version: str = Field(default="v26.0", pattern=r"^v\d+\.\d+$")
    request_timeout_seconds: float = Field(default=60.0, gt=0)
    max_retries: int = Field(default=4, ge=0)
    retry_backoff_seconds: float = Field(default=1.0, ge=0)
    max_throttle_wait_seconds: float = Field(default=600.0, gt=0)
    # Days re-pulled by every incremental and replaced: conversions keep being attributed to a
    # day for up to the attribution window after it (7-day click by default; 28 covers any).
    attribution_window_days: int = Field(default=28, ge=1, le=90)
    # One request (or report run) covers at most this many days of an account.
    chunk_days: int = Field(default=30, ge=1, le=90)
    # Ranges up to this many days are read synchronously; longer ones as async report runs.
    sync_max_days: int = Field(default=7, ge=1, le=90)
    page_limit: int = Field(default=500, ge=1, le=5000)
    poll_min_seconds: float = Field(default=1.0, gt=0)
    poll_max_seconds: float = Field(default=15.0, gt=0)
    report_timeout_seconds: float = Field(default=3600.0, gt=0)
    # Usage-header pacing: above `usage_slow_percent` calls spread out, at `usage_pause_percent`
    # they wait for the window Meta names (or `usage_pause_seconds`).
    # Names the app's fleet-wide budget (storeline/worker/kit/budget.py): every worker that uses
    # the same Meta app shares one schedule. Any stable name; the app id is a good one.
    app_id: str = Field(default="default", min_length=1, max_length=100)
    usage_slow_percent: float = Field(default=75.0, gt=0, le=100)
    usage_pause_percent: float = Field(default=95.0, gt=0, le=100)
    usage_slow_seconds: float = Field(default=2.0, ge=0)
    usage_pause_seconds: float = Field(default=60.0, ge=0)
    # Action types that are purchases, add-to-carts …: explicit sets, never a pattern ("contains
    # purchase" counts one purchase under up to six names).
    purchase_action_types: frozenset[str] = frozenset({"omni_purchase"})
    staging_batch_bytes: int = Field(default=1 << 20, ge=1)

    @property
    def graph_url(self) -> str:
        return f"{self.base_url.rstrip('/')}/{self.api_version}"


@cache
def meta_settings() -> MetaSettings:
    return MetaSettings()
