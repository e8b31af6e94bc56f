-- reporting.shopify_daily_kpis with the revenue rules of docs/shopify-sales-report.md that
-- revision 0015 adds (issue 13); same signature, so the transform's refresh
-- (queries/revenue.sql) and the timezone restamp keep calling it unchanged. Each rule lives here
-- once; the per-line figures it sums are filled by the transform (queries/warehouse.sql, columns
-- of core_warehouse/50_shopify_revenue_rules.sql):
--   rule 5  gift card lines (order_line_items.is_gift_card) are never gross sales, discounts or
--           returns (their refund lines are skipped too).
--   rules 3, 4, 6, 10  Order.taxesIncluded: a line's gross is its original price less the tax
--           it contains (storeline_private.shopify_tax_contained, per tax line, half-even cents);
--           its discounts bring that down to discounted total − tax, so its net sales are
--           exactly D − T; shipping, returns and refunded shipping are net of their own tax.
--           Tax-exclusive orders are summed exactly as before.
--   rule 11 taxes include the tax on duties (order_line_items.duties_tax) and on additional
--           fees (orders.additional_fees_tax) on the order's day, less the refunded duties' tax
--           (refunds.duties_tax) on the refund's day.
--   rule 19 an order whose shop money is not in the shop's currency (orders.currency ≠
--           app_dashboard.shops.currency) is never summed, nor are its refunds: it is listed in
--           reporting.shopify_foreign_money_orders instead. A shop without a row sums all.
CREATE OR REPLACE FUNCTION reporting.shopify_daily_kpis(p_shop_id text, p_days date[])
RETURNS TABLE (
    day date, orders integer, gross_sales numeric, discounts numeric, returns numeric,
    net_sales numeric, shipping numeric, taxes numeric, duties numeric,
    additional_fees numeric, total_sales numeric)
LANGUAGE sql STABLE AS $$
WITH live AS (
    SELECT o.id, o.processed_date, o.taxes_included AS incl, o.original_total_duties AS duties,
           o.original_total_additional_fees AS fees, o.additional_fees_tax AS fees_tax
    FROM core_warehouse.orders AS o
    WHERE o.shop_id = $1 AND o.processed_date = ANY ($2)
      AND NOT o.test AND o.deleted_at IS NULL
      AND coalesce(o.currency = (SELECT s.currency::text FROM app_dashboard.shops AS s
                                 WHERE s.id = $1), true)
),
parts AS (
    SELECT l.processed_date AS day, count(*) AS orders, 0::numeric AS gross_sales,
           0::numeric AS discounts, 0::numeric AS returns, 0::numeric AS shipping,
           coalesce(sum(l.fees_tax), 0) AS taxes, coalesce(sum(l.duties), 0) AS duties,
           coalesce(sum(l.fees), 0) AS additional_fees
    FROM live AS l GROUP BY l.processed_date
    UNION ALL
    SELECT l.processed_date, 0, sum(g.gross), sum(g.discounts), 0, 0,
           sum(li.total_tax + li.duties_tax), 0, 0
    FROM live AS l
    JOIN core_warehouse.order_line_items AS li ON li.shop_id = $1 AND li.order_id = l.id
    CROSS JOIN LATERAL (
        SELECT CASE WHEN l.incl THEN li.original_total - storeline_private.shopify_tax_contained(
                                         li.original_total, li.tax_lines)
                    ELSE li.original_total END AS gross) AS n
    CROSS JOIN LATERAL (
        SELECT n.gross,
               CASE WHEN l.incl THEN n.gross - (li.discounted_total - li.total_tax)
                    ELSE li.total_discount END AS discounts) AS g
    WHERE NOT li.is_gift_card
    GROUP BY l.processed_date
    UNION ALL
    SELECT l.processed_date, 0, 0, 0, 0,
           sum(sl.discounted_price - CASE WHEN l.incl THEN sl.total_tax ELSE 0 END),
           sum(sl.total_tax), 0, 0
    FROM live AS l
    JOIN core_warehouse.order_shipping_lines AS sl ON sl.shop_id = $1 AND sl.order_id = l.id
    GROUP BY l.processed_date
    UNION ALL
    SELECT r.refund_date, 0, 0, 0,
           sum(rli.subtotal - CASE WHEN o.taxes_included THEN rli.total_tax ELSE 0 END), 0,
           -sum(rli.total_tax), 0, 0
    FROM core_warehouse.refunds AS r
    JOIN core_warehouse.orders AS o
      ON o.shop_id = $1 AND o.id = r.order_id AND NOT o.test AND o.deleted_at IS NULL
     AND coalesce(o.currency = (SELECT s.currency::text FROM app_dashboard.shops AS s
                                WHERE s.id = $1), true)
    JOIN core_warehouse.refund_line_items AS rli ON rli.shop_id = $1 AND rli.refund_id = r.id
    LEFT JOIN core_warehouse.order_line_items AS gc
      ON gc.shop_id = $1 AND gc.id = rli.line_item_id AND gc.is_gift_card
    WHERE r.shop_id = $1 AND r.refund_date = ANY ($2) AND gc.id IS NULL
    GROUP BY r.refund_date
    UNION ALL
    SELECT r.refund_date, 0, 0, 0, 0,
           -sum(rsl.subtotal - CASE WHEN o.taxes_included THEN rsl.tax ELSE 0 END),
           -sum(rsl.tax), 0, 0
    FROM core_warehouse.refunds AS r
    JOIN core_warehouse.orders AS o
      ON o.shop_id = $1 AND o.id = r.order_id AND NOT o.test AND o.deleted_at IS NULL
     AND coalesce(o.currency = (SELECT s.currency::text FROM app_dashboard.shops AS s
                                WHERE s.id = $1), true)
    JOIN core_warehouse.refund_shipping_lines AS rsl ON rsl.shop_id = $1 AND rsl.refund_id = r.id
    WHERE r.shop_id = $1 AND r.refund_date = ANY ($2)
    GROUP BY r.refund_date
    UNION ALL
    SELECT r.refund_date, 0, 0, 0, 0, 0, -sum(r.duties_tax), -sum(r.duties), 0
    FROM core_warehouse.refunds AS r
    JOIN core_warehouse.orders AS o
      ON o.shop_id = $1 AND o.id = r.order_id AND NOT o.test AND o.deleted_at IS NULL
     AND coalesce(o.currency = (SELECT s.currency::text FROM app_dashboard.shops AS s
                                WHERE s.id = $1), true)
    WHERE r.shop_id = $1 AND r.refund_date = ANY ($2)
      AND (r.duties <> 0 OR r.duties_tax <> 0)
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

-- Rule 19's flag: the orders reporting.shopify_daily_kpis leaves out because their shop money
-- is in another currency than the shop's (no conversion rule is sourced yet), per shop and the
-- order's shop-local day. Test and deleted orders are not listed (they never count anyway).
CREATE VIEW reporting.shopify_foreign_money_orders WITH (security_invoker = true) AS
SELECT o.shop_id, o.processed_date AS day, o.id AS order_id, o.name, o.currency,
       s.currency::text AS shop_currency
FROM core_warehouse.orders AS o
JOIN app_dashboard.shops AS s ON s.id = o.shop_id
WHERE o.currency <> s.currency::text AND NOT o.test AND o.deleted_at IS NULL;
