"""Plan regression (pgqueuer's test_query_plan_regression idea): the hot statements use their
partial indexes, never a scan of the whole job history."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import asyncpg

from storeline.core.sql import queries
from storeline.worker.jobs.claim import claim_sql


def nodes(plan: dict[str, Any]) -> Iterator[dict[str, Any]]:
    yield plan
    for child in plan.get("Plans", []):
        yield from nodes(child)


async def explain(conn: asyncpg.Connection, name: str, *args: Any) -> list[dict[str, Any]]:
    # asyncpg would plan `EXPLAIN` with the arguments bound, like the real call.
    sql = queries("app_dashboard")[name] if name != "claim_jobs" else claim_sql(8)
    sql = f"EXPLAIN (FORMAT JSON) {sql}"
    (doc,) = await conn.fetchval(sql, *args)
    return list(nodes(doc["Plan"]))


async def test_hot_statements_use_their_partial_indexes(conn: asyncpg.Connection) -> None:
    # A realistic table: 200 shops x 4 platforms, 5,000 finished jobs, a few live ones.
    await conn.execute(
        """
        INSERT INTO app_dashboard.agencies (id, name)
            VALUES ('aaaaaaaa-0000-0000-0000-000000000000', 'A');
        INSERT INTO app_dashboard.shops (id, name, currency, timezone, agency_id)
            SELECT 's' || i || '.myshopify.com', 's' || i, 'EUR', 'UTC',
                   'aaaaaaaa-0000-0000-0000-000000000000'
            FROM generate_series(1, 200) AS i;
        INSERT INTO app_dashboard.sync_jobs (shop_id, platform, job_type, status, completed_at)
            SELECT 's' || (1 + i % 200) || '.myshopify.com',
                   (ARRAY['SHOPIFY', 'META', 'GA4', 'HUBSPOT'])[1 + i % 4],
                   'INCREMENTAL', 'SUCCEEDED', now()
            FROM generate_series(1, 5000) AS i;
        INSERT INTO app_dashboard.sync_jobs (shop_id, platform, job_type)
            SELECT 's' || i || '.myshopify.com', 'META', 'INCREMENTAL'
            FROM generate_series(1, 50) AS i;
        ANALYZE app_dashboard.sync_jobs;
        """
    )
    claim = await explain(
        conn, "claim_jobs", "w", 60.0, ["SHOPIFY", "META", "GA4", "HUBSPOT"], "off"
    )
    cte = next(n for n in claim if n.get("Subplan Name", "").startswith("CTE candidates"))
    scans = [n for n in nodes(cte) if "Relation Name" in n and n["Relation Name"] == "sync_jobs"]
    assert scans[0]["Node Type"] == "Index Scan"
    assert scans[0]["Index Name"] == "sync_jobs_claimable"
    assert any(n["Node Type"] == "LockRows" for n in nodes(cte))
    # NOT EXISTS (… IN_PROGRESS) probes the one-running unique index.
    assert any(n.get("Index Name") == "sync_jobs_one_running" for n in nodes(cte))

    token = "00000000-0000-0000-0000-000000000000"
    # A fenced write finds its row by key or through a live-rows partial index, never by a scan.
    by_key = {"sync_jobs_pkey", "sync_jobs_one_running", "sync_jobs_leases"}
    for name, args, allowed in [
        ("expired_leases", (100,), {"sync_jobs_leases"}),
        ("heartbeat", (1, token, 60.0), by_key),
        ("lock_job", (1, token), by_key),
        ("cancel_queued_requested", (), {"sync_jobs_claimable", "sync_jobs_one_queued"}),
    ]:
        plan = await explain(conn, name, *args)
        used = {n.get("Index Name") for n in plan} - {None}
        assert used, name
        assert used <= allowed, (name, used)
        assert not any(
            n["Node Type"] == "Seq Scan" and n.get("Relation Name") == "sync_jobs" for n in plan
        ), name
