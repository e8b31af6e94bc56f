-- reporting.shop_daily_kpis from core_warehouse (Shopify), for one shop and a set of shop-local
-- days only. Called by storeline/platforms/shopify/rollup.py with $1 shop_id, $2 date[]. The
-- aggregation itself is reporting.shopify_daily_kpis (storeline/platforms/shopify/sql/reporting/30_shopify_kpis.sql),
-- shared with the timezone restamp; it implements the rules below.
--
-- Shopify's sales report, as implemented here (help.shopify.com "Sales reports", ShopifyQL
-- `sales` schema; docs/shopify-sales-report.md):
--   orders      = orders placed that day: processedAt in the shop's timezone (imported orders
--                 land on their original day); cancelled, pending and unpaid orders count.
--   gross_sales = Σ line originalUnitPrice × quantity, on the order's day.
--   discounts   = Σ line discount allocations (line discounts plus the line's share of
--                 order-level discounts), on the order's day; shipping discounts are not here.
--   returns     = Σ refund line item subtotal (returned units after discounts, before tax), on
--                 the refund's day (refund createdAt, shop timezone); a cancellation's refund is
--                 a return like any other.
--   net_sales   = gross_sales − discounts − returns.
--   shipping    = Σ shipping original price − shipping discounts on the order's day,
--                 − Σ refunded shipping (refund shipping line subtotal) on the refund's day.
--   taxes       = Σ tax lines of lines and shipping on the order's day, − Σ refunded taxes
--                 (refund line item tax + refund shipping tax) on the refund's day.
--   duties      = Σ the order's duties (originalTotalDutiesSet) on the order's day, − Σ refunded
--                 duties (Refund.duties) on the refund's day.
--   additional_fees = Σ the order's additional fees (originalTotalAdditionalFeesSet) on the
--                 order's day.
--   return_fees = restocking and return shipping fees kept on returns, on the return's day.
--   total_sales = net_sales + shipping + duties + additional_fees + return_fees + taxes.
--   Order edits (rules 1, 2, 7), exchanges (rule 2) and order adjustments (rule 8): see
--   reporting/75_shopify_daily_kpis.sql.
--   Test orders and deleted orders (and their refunds) never count.
--   AOV (in reporting.daily_revenue) = (gross_sales − discounts) / orders, half-up cents.
-- A day with no sales and no returns has no row.

-- name: refresh_shop_daily_kpis
WITH days AS (
    SELECT DISTINCT unnest($2::date[]) AS day
),
totals AS (
    SELECT * FROM reporting.shopify_daily_kpis($1, $2::date[])
),
cleared AS (
    DELETE FROM reporting.shop_daily_kpis AS k
    WHERE k.shop_id = $1 AND k.day IN (SELECT day FROM days)
      AND k.day NOT IN (SELECT day FROM totals)
)
INSERT INTO reporting.shop_daily_kpis AS k (
    shop_id, day, orders, gross_sales, discounts, returns, net_sales, shipping, taxes, duties,
    additional_fees, return_fees, total_sales, refreshed_at)
SELECT $1, t.day, t.orders, t.gross_sales, t.discounts, t.returns, t.net_sales, t.shipping,
       t.taxes, t.duties, t.additional_fees, t.return_fees, t.total_sales, now()
FROM totals AS t
ON CONFLICT (shop_id, day) DO UPDATE SET
    orders = EXCLUDED.orders, gross_sales = EXCLUDED.gross_sales,
    discounts = EXCLUDED.discounts, returns = EXCLUDED.returns, net_sales = EXCLUDED.net_sales,
    shipping = EXCLUDED.shipping, taxes = EXCLUDED.taxes, duties = EXCLUDED.duties,
    additional_fees = EXCLUDED.additional_fees, return_fees = EXCLUDED.return_fees,
    total_sales = EXCLUDED.total_sales,
    refreshed_at = EXCLUDED.refreshed_at
