-- Timezone changes (revision 0005): Shopify's reports bucket ALL history by the shop's CURRENT
-- timezone, so when app_dashboard.shops.timezone changes every stored shop-local day of the shop
-- is restamped and its rollup rebuilt (core_warehouse/30_shopify_restamp.sql). Both that rebuild
-- and the transform's refresh (reporting/queries/revenue.sql) aggregate through this function,
-- so the sales-report rules live in one place. This is its first version (revision 0005); the
-- definition in force, with every rule, is reporting/75_shopify_daily_kpis.sql.
--
-- A single-SELECT, STABLE, non-strict SQL function: the planner inlines it into the caller's
-- query, so the caller's plan (and rollup.py's hash-join guard) applies to its joins.
CREATE FUNCTION reporting.shopify_daily_kpis(p_shop_id text, p_days date[])
RETURNS TABLE (
    day date, orders integer, gross_sales numeric, discounts numeric, returns numeric,
    net_sales numeric, shipping numeric, taxes numeric, duties numeric,
    additional_fees numeric, total_sales numeric)
LANGUAGE sql STABLE AS $$
WITH live AS (
    SELECT o.id, o.processed_date, o.original_total_duties AS duties,
           o.original_total_additional_fees AS fees
    FROM core_warehouse.orders AS o
    WHERE o.shop_id = $1 AND o.processed_date = ANY ($2)
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
    WHERE r.shop_id = $1 AND r.refund_date = ANY ($2)
    GROUP BY r.refund_date
    UNION ALL
    SELECT r.refund_date, 0, 0, 0, 0, -sum(rsl.subtotal), -sum(rsl.tax), 0, 0
    FROM core_warehouse.refunds AS r
    JOIN core_warehouse.orders AS o
      ON o.shop_id = $1 AND o.id = r.order_id AND NOT o.test AND o.deleted_at IS NULL
    JOIN core_warehouse.refund_shipping_lines AS rsl ON rsl.shop_id = $1 AND rsl.refund_id = r.id
    WHERE r.shop_id = $1 AND r.refund_date = ANY ($2)
    GROUP BY r.refund_date
    UNION ALL
    SELECT r.refund_date, 0, 0, 0, 0, 0, 0, -sum(r.duties), 0
    FROM core_warehouse.refunds AS r
    JOIN core_warehouse.orders AS o
      ON o.shop_id = $1 AND o.id = r.order_id AND NOT o.test AND o.deleted_at IS NULL
    WHERE r.shop_id = $1 AND r.refund_date = ANY ($2) AND r.duties <> 0
    GROUP BY r.refund_date
),
totals AS (
    SELECT p.day, sum(p.orders)::integer AS orders, sum(p.gross_sales) AS gross_sales,
           sum(p.discounts) AS discounts, sum(p.returns) AS returns,
           sum(p.shipping) AS shipping, sum(p.taxes) AS taxes, sum(p.duties) AS duties,
           sum(p.additional_fees) AS additional_fees
    FROM parts AS p GROUP BY p.day
)
SELECT t.day, t.orders, t.gross_sales, t.discounts, t.returns,
       t.gross_sales - t.discounts - t.returns, t.shipping, t.taxes, t.duties, t.additional_fees,
       t.gross_sales - t.discounts - t.returns + t.shipping + t.duties + t.additional_fees
           + t.taxes
FROM totals AS t
$$;
