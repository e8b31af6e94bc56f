"""Shopify connector: GraphQL Admin API 2026-01 → staging_ingest → core_warehouse → reporting.

client.py (HTTP, pacing, error mapping) · bulk.py (resumable bulk exports) · pages.py (small
incrementals) · refunds.py (refund details) · deletions.py (deleted orders) · records.py (the
line shape) · connector.py (the job) · load/transform/rollup (the warehouse side).
"""
