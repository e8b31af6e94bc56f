-- Shopify's own daily figures (storeline/platforms/shopify/reconcile.py, provisional.py; tables in
-- reporting/60_shopify_sales_report.sql).

-- name: shopify_store_reported_days
-- $1 shop, $2 job id, $3 date[] days, then parallel arrays of figures: $4 orders int[],
-- $5 gross, $6 discounts, $7 returns, $8 net, $9 shipping, $10 duties, $11 additional fees,
-- $12 taxes, $13 total (numeric[]; duties and fees may hold NULLs).
INSERT INTO reporting.shopify_reported_daily AS r (
    shop_id, day, orders, gross_sales, discounts, returns, net_sales, shipping, duties,
    additional_fees, taxes, total_sales, fetched_at, sync_job_id)
SELECT $1::text, d.day, d.orders, d.gross, d.discounts, d.returns, d.net, d.shipping, d.duties,
       d.fees, d.taxes, d.total, now(), $2::bigint
FROM unnest($3::date[], $4::integer[], $5::numeric[], $6::numeric[], $7::numeric[],
            $8::numeric[], $9::numeric[], $10::numeric[], $11::numeric[], $12::numeric[],
            $13::numeric[])
     AS d(day, orders, gross, discounts, returns, net, shipping, duties, fees, taxes, total)
ON CONFLICT (shop_id, day) DO UPDATE SET
    orders = EXCLUDED.orders, gross_sales = EXCLUDED.gross_sales,
    discounts = EXCLUDED.discounts, returns = EXCLUDED.returns, net_sales = EXCLUDED.net_sales,
    shipping = EXCLUDED.shipping, duties = EXCLUDED.duties,
    additional_fees = EXCLUDED.additional_fees, taxes = EXCLUDED.taxes,
    total_sales = EXCLUDED.total_sales, fetched_at = EXCLUDED.fetched_at,
    sync_job_id = EXCLUDED.sync_job_id

-- name: shopify_record_report_check
-- $1 shop, $2 status ('checked' | 'not_verified' | 'failed'), $3 reason (caller-facing, or
-- NULL), $4 first day, $5 last day, $6 days fetched, $7 job id.
INSERT INTO reporting.shopify_report_checks AS c (
    shop_id, status, reason, first_day, last_day, days_fetched, sync_job_id, checked_at)
VALUES ($1, $2, $3, $4, $5, $6, $7, now())
ON CONFLICT (shop_id) DO UPDATE SET
    status = EXCLUDED.status, reason = EXCLUDED.reason, first_day = EXCLUDED.first_day,
    last_day = EXCLUDED.last_day, days_fetched = EXCLUDED.days_fetched,
    sync_job_id = EXCLUDED.sync_job_id, checked_at = EXCLUDED.checked_at

-- name: shopify_mark_order_coverage
-- In the transform's transaction: order-level data reaches $2 (the orders watermark, Shopify's
-- clock; NULL: now). Never moves back.
INSERT INTO reporting.shopify_order_coverage AS c (shop_id, covered_until, updated_at)
VALUES ($1, coalesce($2::timestamptz, now()), now())
ON CONFLICT (shop_id) DO UPDATE SET
    covered_until = greatest(c.covered_until, EXCLUDED.covered_until),
    updated_at = EXCLUDED.updated_at

-- name: shopify_has_order_coverage
SELECT EXISTS (SELECT 1 FROM reporting.shopify_order_coverage WHERE shop_id = $1)
