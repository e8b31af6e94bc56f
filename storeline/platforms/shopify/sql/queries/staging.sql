-- Shopify staging rows: line numbering and retention (storeline/platforms/shopify/load.py).

-- name: shopify_next_line_no
SELECT coalesce(max(line_no), 0) FROM staging_ingest.shopify_bulk_rows WHERE sync_job_id = $1;

-- name: shopify_prune_staging
-- $1 cut-off (completed before it), $2 successful jobs to keep per shop. The job ids present
-- are found by skipping through the primary key (one probe per job, not a scan of the rows).
WITH RECURSIVE present AS (
    SELECT min(sync_job_id) AS id FROM staging_ingest.shopify_bulk_rows
    UNION ALL
    SELECT (SELECT min(s.sync_job_id) FROM staging_ingest.shopify_bulk_rows AS s
            WHERE s.sync_job_id > present.id)
    FROM present WHERE present.id IS NOT NULL
),
kept AS (
    SELECT id FROM (
        SELECT j.id, row_number() OVER (PARTITION BY j.shop_id ORDER BY j.id DESC) AS n
        FROM app_dashboard.sync_jobs AS j
        WHERE j.platform = 'SHOPIFY' AND j.status = 'SUCCEEDED'
    ) AS ranked
    WHERE n <= $2
),
doomed AS (
    SELECT p.id
    FROM present AS p
    LEFT JOIN app_dashboard.sync_jobs AS j ON j.id = p.id
    WHERE p.id IS NOT NULL AND p.id NOT IN (SELECT id FROM kept)
      AND (j.id IS NULL
           OR (j.status IN ('SUCCEEDED', 'FAILED', 'CANCELLED') AND j.completed_at < $1))
)
DELETE FROM staging_ingest.shopify_bulk_rows AS s
USING doomed WHERE s.sync_job_id = doomed.id
