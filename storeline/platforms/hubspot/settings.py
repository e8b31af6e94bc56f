"""HubSpot connector settings (`HUBSPOT_*`): base URL (the sandbox is just another URL), page
sizes and the search cap, the incremental overlap, and the portal's request pacing."""

from __future__ import annotations

from functools import cache

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class HubSpotSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="HUBSPOT_", extra="ignore")

    base_url: str = "https://api.hubapi.com"
    request_timeout_seconds: float = Field(default=60.0, gt=0)
    max_retries: int = Field(default=4, ge=0)
    retry_backoff_seconds: float = Field(default=1.0, ge=0)
    max_throttle_wait_seconds: float = Field(default=300.0, gt=0)
    # Object kinds a job reads (tests narrow it; the warehouse needs all three).
    objects: tuple[str, ...] = ("deals", "contacts", "companies")
    list_page_limit: int = Field(default=100, ge=1, le=100)
    search_page_limit: int = Field(default=200, ge=1, le=200)
    # HubSpot answers 400 past this many results of one search: windows are re-sliced before it.
    search_result_cap: int = Field(default=10_000, ge=200)
    # Incrementals re-read this far before the cursor: a change can take a while to reach the
    # search index, and not in stamp order (docs/platforms/hubspot.md, item 10). Must exceed
    # the index lag; HubSpot documents none, so minutes.
    search_overlap_seconds: float = Field(default=600.0, ge=0)
    # Pacing per portal (shops sharing a portal share it): the private-app tier is 100 to 200
    # requests per 10 s; search is 5 requests/s per account.
    requests_per_ten_seconds: int = Field(default=100, ge=1)
    search_requests_per_second: int = Field(default=4, ge=1)
    # A 429 without a usable Retry-After waits this long.
    default_retry_after_seconds: float = Field(default=10.0, ge=0)
    staging_batch_bytes: int = Field(default=1 << 20, ge=1)


@cache
def hubspot_settings() -> HubSpotSettings:
    return HubSpotSettings()
