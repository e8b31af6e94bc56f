-- name: demo_live_jobs
-- The queued or running jobs of the demo's shops: the ones the demo waits for.
SELECT id FROM app_dashboard.sync_jobs
WHERE shop_id = ANY($1::text[]) AND platform = ANY($2::text[])
  AND status IN ('QUEUED', 'IN_PROGRESS')

-- name: demo_jobs
SELECT j.shop_id, j.platform, j.job_type, j.status, j.records_synced, j.attempts,
       j.error ->> 'code' AS error_code, j.error ->> 'message' AS error_message,
       extract(epoch FROM coalesce(j.completed_at, now()) - coalesce(j.started_at, now()))
           AS seconds
FROM app_dashboard.sync_jobs AS j
WHERE j.id = ANY($1::bigint[])
ORDER BY j.shop_id, j.platform

-- name: demo_connected
SELECT shop_id, platform FROM app_dashboard.shop_credentials WHERE shop_id = ANY($1::text[])

-- name: demo_bigquery_restart
-- The emulator starts empty each run: forget what was mirrored, so each shop's first export
-- copies everything again.
DELETE FROM app_dashboard.mirror_watermarks WHERE target = 'BIGQUERY'

-- name: demo_bigquery_pending
-- BigQuery exports of the demo's shops still queued or running.
SELECT count(*) FROM app_dashboard.sync_jobs
WHERE shop_id = ANY($1::text[]) AND platform = 'BIGQUERY' AND status IN ('QUEUED', 'IN_PROGRESS')

-- name: demo_bigquery_last
-- Each shop's latest BigQuery export, and the rows all its exports moved.
SELECT DISTINCT ON (j.shop_id) j.shop_id, j.status, j.error ->> 'code' AS error_code,
       (SELECT sum(w.rows_mirrored) FROM app_dashboard.mirror_watermarks AS w
        WHERE w.shop_id = j.shop_id AND w.target = 'BIGQUERY') AS mirrored
FROM app_dashboard.sync_jobs AS j
WHERE j.shop_id = ANY($1::text[]) AND j.platform = 'BIGQUERY'
ORDER BY j.shop_id, j.id DESC
