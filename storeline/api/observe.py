"""The API's `/metrics` (Prometheus text): request count and latency by route template, method
and status, from Litestar's Prometheus middleware. Unauthenticated, like `/healthz`: it names
routes, never users, shops or tokens (docs/operations.md "Metrics")."""

from __future__ import annotations

from litestar.plugins.prometheus import PrometheusConfig, PrometheusController

# Route templates (`/api/shops/{shop_id:str}`), not raw paths: one series per route, not per shop.
prometheus = PrometheusConfig(
    app_name="storeline-api",
    prefix="storeline_api",
    group_path=True,
    exclude_unhandled_paths=True,
    exclude=["^/metrics$"],
)


class PrometheusMetrics(PrometheusController):
    path = "/metrics"
    include_in_schema = False
