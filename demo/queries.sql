-- name: demo_jobs
-- The newest job of each (shop, platform) the demo cares about, for the progress display.
SELECT DISTINCT ON (j.shop_id, j.platform)
       j.shop_id, j.platform, j.job_type, j.status, j.records_synced, j.attempts,
       j.error ->> 'code' AS error_code, j.error ->> 'message' AS error_message,
       extract(epoch FROM coalesce(j.completed_at, now()) - coalesce(j.started_at, now()))
           AS seconds
FROM app_dashboard.sync_jobs AS j
WHERE j.shop_id = ANY($1::text[]) AND j.platform = ANY($2::text[]) AND j.id >= $3
ORDER BY j.shop_id, j.platform, j.id DESC

-- name: demo_first_job_id
SELECT coalesce(max(id), 0) + 1 FROM app_dashboard.sync_jobs

-- name: demo_connected
SELECT shop_id, platform FROM app_dashboard.shop_credentials WHERE shop_id = ANY($1::text[])

-- name: demo_revenue
SELECT day, orders, gross_sales, discounts, returns, net_sales, shipping, taxes, total_sales
FROM reporting.daily_revenue
WHERE shop_id = $1 AND day BETWEEN $2 AND $3
ORDER BY day
