"""The API's /metrics: Prometheus text without a token, latency per route template (never per
shop id), and nothing about callers."""

from __future__ import annotations

import httpx
from prometheus_client.parser import text_string_to_metric_families

from tests.api.conftest import A_OWNER, Token
from tests.api.test_platforms import A1, auth


async def test_metrics_count_latency_by_route_template(
    api: httpx.AsyncClient, token: Token
) -> None:
    assert (await api.get(f"/api/shops/{A1}", headers=auth(token, A_OWNER))).status_code == 200
    r = await api.get("/metrics")
    assert r.status_code == 200, r.text
    assert r.headers["content-type"].startswith("text/plain")
    counts = {
        (s.labels["path"], s.labels["status_code"]): s.value
        for family in text_string_to_metric_families(r.text)
        for s in family.samples
        if s.name == "storeline_api_request_duration_seconds_count"
    }
    assert counts[("/api/shops/{shop_id}", "200")] >= 1
    assert not any(A1 in path for path, _ in counts)
    assert "Bearer" not in r.text
