-- Shopify staging rows: line numbering (storeline/platforms/shopify/load.py).

-- name: shopify_next_line_no
SELECT coalesce(max(line_no), 0) FROM staging_ingest.shopify_bulk_rows WHERE sync_job_id = $1;

