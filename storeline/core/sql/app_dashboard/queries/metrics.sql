-- The worker's queue figures for Prometheus (storeline/worker/observe.py), read every
-- metrics_sample_seconds by each replica. Both use the partial and key indexes only.

-- name: metrics_jobs
-- Waiting and running jobs per platform; of the waiting, those due now and the oldest's wait.
SELECT status, platform, count(*) AS jobs,
       count(*) FILTER (WHERE run_after <= now()) AS ready,
       extract(epoch FROM now() - min(run_after) FILTER (WHERE run_after <= now()))::float8
           AS oldest_ready_seconds
FROM app_dashboard.sync_jobs
WHERE status IN ('QUEUED', 'IN_PROGRESS')
GROUP BY status, platform

-- name: metrics_staleness
-- Connected (shop, platform) pairs whose credential is OK, by platform and staleness bucket
-- (width_bucket over $1, the bucket bounds in seconds: how many bounds the age has passed; NULL:
-- never synced). storeline/worker/observe.py makes the cumulative histogram.
WITH ages AS (
    SELECT c.platform, extract(epoch FROM now() - cur.last_success_at)::float8 AS age
    FROM app_dashboard.shop_credentials AS c
    LEFT JOIN app_dashboard.sync_cursors AS cur
        ON cur.shop_id = c.shop_id AND cur.platform = c.platform
    WHERE c.status = 'OK'
)
SELECT platform, width_bucket(age, $1::float8[]) AS bucket, count(*) AS pairs,
       coalesce(sum(age), 0)::float8 AS sum_seconds
FROM ages
GROUP BY 1, 2
