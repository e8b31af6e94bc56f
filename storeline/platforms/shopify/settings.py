"""Shopify connector settings (env prefix `SHOPIFY_`), built by a cached factory, never at import.

`SHOPIFY_BASE_URL` is a template: `{shop}` is the shop's myshopify domain and `{handle}` its
subdomain, so production uses `https://{shop}` and the sandbox
`http://127.0.0.1:<port>/shops/{handle}`; the GraphQL endpoint is
`<base>/admin/api/<version>/graphql.json` either way.
"""

from __future__ import annotations

from functools import lru_cache

from pydantic import Field, ValidationError, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from storeline.core.errors import ConfigError


class ShopifySettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="SHOPIFY_", extra="ignore")

    base_url: str = "https://{shop}"
    api_version: str = "2026-01"
    # Incrementals re-read `updated_at >= watermark - overlap`: rows committed late on Shopify's
    # side (and clock skew) fall inside the overlap instead of being skipped for good.
    overlap_minutes: int = Field(default=15, ge=0)
    request_timeout_seconds: float = Field(default=30.0, gt=0)
    download_timeout_seconds: float = Field(default=120.0, gt=0)
    # Transport failures (5xx, timeouts, malformed bodies) are retried this many times per request
    # with exponential backoff before the job fails transient (the engine retries the job).
    max_retries: int = Field(default=4, ge=0)
    retry_backoff_seconds: float = Field(default=0.5, ge=0)
    # THROTTLED answers are waited out from throttleStatus; this caps how long one request waits.
    max_throttle_wait_seconds: float = Field(default=300.0, gt=0)
    # Bulk operations: poll quickly first (small exports finish in seconds), back off to the max.
    poll_min_seconds: float = Field(default=0.2, gt=0)
    poll_max_seconds: float = Field(default=5.0, gt=0)
    bulk_timeout_seconds: float = Field(default=6 * 3600.0, gt=0)
    # OPERATION_IN_PROGRESS (five running operations): wait this long for a slot, then hand the
    # job back to the engine as transient with a retry_after.
    in_progress_wait_seconds: float = Field(default=60.0, ge=0)
    # A FAILED operation is resubmitted (for what its partial data missed) at most this often.
    max_bulk_attempts: int = Field(default=4, ge=1)
    # After a partial result, restart this many roots before the newest one seen: with groupObjects
    # false a root's children may trail it, so the last roots of a prefix may be incomplete.
    partial_overlap_roots: int = Field(default=200, ge=1)
    # Small incrementals: `orders_page.graphql` pages of this size; after `page_limit` full pages
    # the rest of the window goes through a bulk operation instead.
    page_size: int = Field(default=3, ge=1, le=3)  # 3 orders ≈ 920 requested points (max 1000)
    page_limit: int = Field(default=20, ge=1)
    # Refund details (refund_details.graphql) are fetched for this many orders per request.
    refund_batch: int = Field(default=10, ge=1, le=50)
    # Page size for the rest of a refund too large for one page (refund_children.graphql; both
    # connections at 80 stay under the 1000-point query limit).
    refund_page: int = Field(default=80, ge=1, le=80)
    # Refund-detail requests kept in flight during a backfill: one waits on the network while
    # another is answered, so the shop's rate limit, not latency, bounds the phase.
    refund_concurrency: int = Field(default=3, ge=1, le=8)
    events_page_size: int = Field(default=100, ge=1, le=250)
    # Staging batch: one fenced transaction (rows + resume point + records_synced) per this many
    # bytes of raw lines (storeline/worker/kit/staging.py).
    staging_batch_bytes: int = Field(default=1 << 20, ge=1)
    # Shopify's own report (shopifyqlQuery, scope read_reports): after every sync its figures for
    # the touched days are stored beside ours (reconcile.py); a shop without order-level data
    # first gets this many days of it, marked provisional (provisional.py; 0: none). One query
    # asks for at most `report_span_days` days.
    reconcile: bool = True
    report_history_days: int = Field(default=731, ge=0)
    report_span_days: int = Field(default=366, ge=1, le=366)

    @field_validator("base_url")
    @classmethod
    def _template(cls, value: str) -> str:
        if "{shop}" not in value and "{handle}" not in value:
            raise ValueError("must contain {shop} or {handle}")
        if not value.startswith(("https://", "http://")):
            raise ValueError("must start with https:// (or http:// for the local sandbox)")
        return value.rstrip("/")

    def shop_url(self, shop_id: str) -> str:
        """The shop's Admin base URL, e.g. https://aurora-goods.myshopify.com."""
        handle = shop_id.removesuffix(".myshopify.com")
        return self.base_url.format(shop=shop_id, handle=handle)

    def graphql_url(self, shop_id: str) -> str:
        return f"{self.shop_url(shop_id)}/admin/api/{self.api_version}/graphql.json"


@lru_cache
def shopify_settings() -> ShopifySettings:
    try:
        return ShopifySettings()
    except ValidationError as exc:
        first = exc.errors()[0]
        field = ".".join(str(p) for p in first["loc"]).upper()
        raise ConfigError(f"invalid setting SHOPIFY_{field}: {first['msg']}") from None
