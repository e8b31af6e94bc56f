-- Shopify's own report against the product's figures, for the sync status route
-- (storeline/api/routes/sync.py). Runs as `authenticated`: RLS on the reporting tables decides
-- what the caller sees. Tables and views: platforms/shopify/sql/reporting/60_shopify_sales_report.sql.

-- name: sync_shopify_report
-- The shop's latest reconciliation ('pending': never checked) and, over every day Shopify's
-- figure was read for, how many agree and disagree, plus the days still provisional. $1 shop.
SELECT coalesce(ch.status, 'pending') AS status, ch.reason, ch.checked_at,
       ch.sync_job_id AS job_id, ch.first_day, ch.last_day,
       (SELECT count(*) FROM reporting.shopify_report_comparison AS c
        WHERE c.shop_id = $1::text AND c.agrees)::integer AS days_agreeing,
       (SELECT count(*) FROM reporting.shopify_report_comparison AS c
        WHERE c.shop_id = $1::text AND NOT c.agrees)::integer AS days_disagreeing,
       (SELECT count(*) FROM reporting.shopify_provisional_daily AS p
        WHERE p.shop_id = $1::text)::integer AS provisional_days
FROM (SELECT $1::text AS shop_id) AS s
LEFT JOIN reporting.shopify_report_checks AS ch ON ch.shop_id = s.shop_id

-- name: sync_shopify_report_disagreements
-- The latest days on which Shopify's figures and ours differ: $1 shop, $2 how many.
-- differences: Shopify − Storeline per metric that differs (decimal strings).
SELECT c.day, c.differences, c.fetched_at
FROM reporting.shopify_report_comparison AS c
WHERE c.shop_id = $1::text AND NOT c.agrees
ORDER BY c.day DESC
LIMIT $2::integer
