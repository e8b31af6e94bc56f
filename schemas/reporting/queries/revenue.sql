-- reporting.shop_daily_kpis from core_warehouse (Shopify), for one shop and a set of shop-local
-- days only. Called by worker/connectors/shopify/rollup.py with $1 shop_id, $2 date[].
--
-- Shopify's sales report, as implemented here (help.shopify.com "Sales reports", ShopifyQL
-- `sales` schema; DESIGN.md §6):
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
--   total_sales = net_sales + shipping + duties + additional_fees + taxes.
--   Test orders and deleted orders (and their refunds) never count.
--   AOV (in reporting.daily_revenue) = (gross_sales − discounts) / orders, half-up cents.
-- A day with no sales and no returns has no row.

-- name: refresh_shop_daily_kpis
WITH days AS (
    SELECT DISTINCT unnest($2::date[]) AS day
),
live AS (
    SELECT o.id, o.processed_date, o.original_total_duties AS duties,
           o.original_total_additional_fees AS fees
    FROM core_warehouse.orders AS o
    WHERE o.shop_id = $1 AND o.processed_date = ANY ($2::date[])
      AND NOT o.test AND o.deleted_at IS NULL
),
parts AS (
    SELECT l.processed_date AS day, count(*) AS orders, 0::numeric AS gross_sales,
           0::numeric AS discounts, 0::numeric AS returns, 0::numeric AS shipping,
           0::numeric AS taxes, coalesce(sum(l.duties), 0) AS duties,
           coalesce(sum(l.fees), 0) AS additional_fees
    FROM live AS l GROUP BY l.processed_date
    UNION ALL
    SELECT l.processed_date, 0, sum(li.original_total), sum(li.total_discount), 0, 0,
           sum(li.total_tax), 0, 0
    FROM live AS l
    JOIN core_warehouse.order_line_items AS li ON li.shop_id = $1 AND li.order_id = l.id
    GROUP BY l.processed_date
    UNION ALL
    SELECT l.processed_date, 0, 0, 0, 0, sum(sl.discounted_price), sum(sl.total_tax), 0, 0
    FROM live AS l
    JOIN core_warehouse.order_shipping_lines AS sl ON sl.shop_id = $1 AND sl.order_id = l.id
    GROUP BY l.processed_date
    UNION ALL
    SELECT r.refund_date, 0, 0, 0, sum(rli.subtotal), 0, -sum(rli.total_tax), 0, 0
    FROM core_warehouse.refunds AS r
    JOIN core_warehouse.orders AS o
      ON o.shop_id = $1 AND o.id = r.order_id AND NOT o.test AND o.deleted_at IS NULL
    JOIN core_warehouse.refund_line_items AS rli ON rli.shop_id = $1 AND rli.refund_id = r.id
    WHERE r.shop_id = $1 AND r.refund_date = ANY ($2::date[])
    GROUP BY r.refund_date
    UNION ALL
    SELECT r.refund_date, 0, 0, 0, 0, -sum(rsl.subtotal), -sum(rsl.tax), 0, 0
    FROM core_warehouse.refunds AS r
    JOIN core_warehouse.orders AS o
      ON o.shop_id = $1 AND o.id = r.order_id AND NOT o.test AND o.deleted_at IS NULL
    JOIN core_warehouse.refund_shipping_lines AS rsl ON rsl.shop_id = $1 AND rsl.refund_id = r.id
    WHERE r.shop_id = $1 AND r.refund_date = ANY ($2::date[])
    GROUP BY r.refund_date
    UNION ALL
    SELECT r.refund_date, 0, 0, 0, 0, 0, 0, -sum(r.duties), 0
    FROM core_warehouse.refunds AS r
    JOIN core_warehouse.orders AS o
      ON o.shop_id = $1 AND o.id = r.order_id AND NOT o.test AND o.deleted_at IS NULL
    WHERE r.shop_id = $1 AND r.refund_date = ANY ($2::date[]) AND r.duties <> 0
    GROUP BY r.refund_date
),
totals AS (
    SELECT p.day, sum(p.orders)::integer AS orders, sum(p.gross_sales) AS gross_sales,
           sum(p.discounts) AS discounts, sum(p.returns) AS returns,
           sum(p.shipping) AS shipping, sum(p.taxes) AS taxes, sum(p.duties) AS duties,
           sum(p.additional_fees) AS additional_fees
    FROM parts AS p GROUP BY p.day
),
cleared AS (
    DELETE FROM reporting.shop_daily_kpis AS k
    WHERE k.shop_id = $1 AND k.day IN (SELECT day FROM days)
      AND k.day NOT IN (SELECT day FROM totals)
)
INSERT INTO reporting.shop_daily_kpis AS k (
    shop_id, day, orders, gross_sales, discounts, returns, net_sales, shipping, taxes, duties,
    additional_fees, total_sales, refreshed_at)
SELECT $1, t.day, t.orders, t.gross_sales, t.discounts, t.returns,
       t.gross_sales - t.discounts - t.returns, t.shipping, t.taxes, t.duties, t.additional_fees,
       t.gross_sales - t.discounts - t.returns + t.shipping + t.duties + t.additional_fees
           + t.taxes, now()
FROM totals AS t
ON CONFLICT (shop_id, day) DO UPDATE SET
    orders = EXCLUDED.orders, gross_sales = EXCLUDED.gross_sales,
    discounts = EXCLUDED.discounts, returns = EXCLUDED.returns, net_sales = EXCLUDED.net_sales,
    shipping = EXCLUDED.shipping, taxes = EXCLUDED.taxes, duties = EXCLUDED.duties,
    additional_fees = EXCLUDED.additional_fees, total_sales = EXCLUDED.total_sales,
    refreshed_at = EXCLUDED.refreshed_at
