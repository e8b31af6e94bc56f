-- reporting.shopify_daily_kpis: one shop's Sales-report figures for the given shop-local days,
-- by the rules of docs/shopify-sales-report.md. This file is the one place in the SQL that owns
-- those rules; revisions 0016, 0025 and 0029 apply it (CREATE OR REPLACE, so applying it again
-- is a no-op), and a revision that changes a rule edits it here and applies it again. Its callers are
-- the transform's refresh (queries/revenue.sql) and the timezone restamp
-- (reporting/50_shopify_order_shapes.sql); both name the columns they read. The per-line figures
-- it sums are filled by the transform (queries/warehouse.sql; columns of
-- core_warehouse/50_shopify_revenue_rules.sql and core_warehouse/60_shopify_order_shapes.sql).
--   rule 1  orders with processedAt on the day (cancelled, pending, unpaid included; test and
--           deleted excluded); an OrderEditAgreement on a later shop-local day than its order
--           counts one order more on that day.
--   rule 2  a line sold by an edit or a return agreement (its first ORDER ProductSale: an added
--           line, an exchange item) has its gross, discounts and taxes on that agreement's day.
--   rules 3, 4, 6, 10  Order.taxesIncluded: a line's gross is its original price less the tax
--           it contains (storeline_private.shopify_tax_contained, per tax line, half-even cents);
--           its discounts bring that down to discounted total − tax, so its net sales are
--           exactly D − T; shipping, returns and refunded shipping are net of their own tax.
--   rule 5  gift card lines (order_line_items.is_gift_card) are never gross sales, discounts or
--           returns (their refund lines are skipped too).
--   rule 7  an edit's RETURN ProductSale (units removed, no refund) is a return on the edit's
--           day: returns += −(totalAmount − totalTaxAmount), taxes += totalTaxAmount.
--   rule 8  refund money on no refund line (Refund.orderAdjustments): returns += −amount, taxes
--           += tax, on the refund's day.
--   rules 11, 12  taxes include the tax on duties and on additional fees on the order's day;
--           refunded duties and their tax go down on the refund's day.
--   rule 13 additional fees given back: 2026-01 has no refunded-fee object on Refund; the Sales
--           API books the fee as an AdditionalFeeSale (actionType RETURN) in the refund's
--           RefundAgreement (agreements.py loads it into core_warehouse.order_sales, line_type
--           ADDITIONAL_FEE): additional_fees and taxes go down on that agreement's day.
--   rule 14 restocking and return shipping fees kept on a return are `return_fees`, on the
--           return's day, and part of total sales.
--   rule 19 an order whose shop money is not in the shop's currency is never summed, nor are its
--           refunds (reporting.shopify_foreign_money_orders lists it). A shop without a currency
--           sums all.

CREATE OR REPLACE FUNCTION reporting.shopify_daily_kpis(p_shop_id text, p_days date[])
RETURNS TABLE (
    day date, orders integer, gross_sales numeric, discounts numeric, returns numeric,
    net_sales numeric, shipping numeric, taxes numeric, duties numeric,
    additional_fees numeric, return_fees numeric, total_sales numeric)
LANGUAGE sql STABLE AS $$
-- Rules 1 and 19: the orders that count (not test, not deleted, in the shop's money; a shop
-- without a currency counts all). NOT MATERIALIZED: each use is inlined into its branch, so it
-- joins by the orders' key instead of reading every order of the shop first.
WITH counted AS NOT MATERIALIZED (
    SELECT o.*
    FROM core_warehouse.orders AS o
    WHERE o.shop_id = $1 AND NOT o.test AND o.deleted_at IS NULL
      AND coalesce(o.currency = (SELECT s.currency::text FROM app_dashboard.shops AS s
                                 WHERE s.id = $1), true)
),
live AS (
    SELECT o.id, o.processed_date, o.taxes_included AS incl, o.original_total_duties AS duties,
           o.original_total_additional_fees AS fees, o.additional_fees_tax AS fees_tax
    FROM counted AS o
    WHERE o.processed_date = ANY ($2)
),
-- Rule 2: a line an agreement sold (its first ORDER sale) belongs to that agreement's day.
sold AS (
    SELECT DISTINCT ON (s.line_item_id) s.line_item_id, s.sale_date
    FROM core_warehouse.order_sales AS s
    WHERE s.shop_id = $1 AND s.action_type = 'ORDER' AND s.line_item_id IS NOT NULL
    ORDER BY s.line_item_id, s.happened_at
),
booked_lines AS (
    SELECT l.processed_date AS day, l.incl, li.original_total, li.tax_lines,
           li.discounted_total, li.total_tax, li.total_discount, li.duties_tax
    FROM live AS l
    JOIN core_warehouse.order_line_items AS li ON li.shop_id = $1 AND li.order_id = l.id
    WHERE NOT li.is_gift_card
      AND NOT EXISTS (SELECT 1 FROM sold AS x WHERE x.line_item_id = li.id)
    UNION ALL
    SELECT x.sale_date, o.taxes_included, li.original_total, li.tax_lines,
           li.discounted_total, li.total_tax, li.total_discount, li.duties_tax
    FROM sold AS x
    JOIN core_warehouse.order_line_items AS li ON li.shop_id = $1 AND li.id = x.line_item_id
    JOIN counted AS o ON o.id = li.order_id
    WHERE x.sale_date = ANY ($2) AND NOT li.is_gift_card
),
parts AS (
    SELECT l.processed_date AS day, count(*) AS orders, 0::numeric AS gross_sales,
           0::numeric AS discounts, 0::numeric AS returns, 0::numeric AS shipping,
           coalesce(sum(l.fees_tax), 0) AS taxes, coalesce(sum(l.duties), 0) AS duties,
           coalesce(sum(l.fees), 0) AS additional_fees, 0::numeric AS return_fees
    FROM live AS l GROUP BY l.processed_date
    UNION ALL
    SELECT b.day, 0, sum(g.gross), sum(g.discounts), 0, 0, sum(b.total_tax + b.duties_tax), 0,
           0, 0
    FROM booked_lines AS b
    CROSS JOIN LATERAL (
        SELECT CASE WHEN b.incl THEN b.original_total - storeline_private.shopify_tax_contained(
                                         b.original_total, b.tax_lines)
                    ELSE b.original_total END AS gross) AS n
    CROSS JOIN LATERAL (
        SELECT n.gross,
               CASE WHEN b.incl THEN n.gross - (b.discounted_total - b.total_tax)
                    ELSE b.total_discount END AS discounts) AS g
    GROUP BY b.day
    UNION ALL
    SELECT l.processed_date, 0, 0, 0, 0,
           sum(sl.discounted_price - CASE WHEN l.incl THEN sl.total_tax ELSE 0 END),
           sum(sl.total_tax), 0, 0, 0
    FROM live AS l
    JOIN core_warehouse.order_shipping_lines AS sl ON sl.shop_id = $1 AND sl.order_id = l.id
    GROUP BY l.processed_date
    UNION ALL
    -- Rules 1 and 7: edits on their own day (the order count, the units they took back).
    SELECT s.sale_date, count(DISTINCT s.agreement_id) FILTER (
               WHERE s.sale_date <> o.processed_date), 0, 0,
           coalesce(-sum(s.total_amount - s.total_tax) FILTER (
               WHERE s.action_type = 'RETURN' AND s.line_type = 'PRODUCT'), 0), 0,
           coalesce(sum(s.total_tax) FILTER (
               WHERE s.action_type = 'RETURN' AND s.line_type = 'PRODUCT'), 0), 0, 0, 0
    FROM core_warehouse.order_sales AS s
    JOIN counted AS o ON o.id = s.order_id
    WHERE s.shop_id = $1 AND s.sale_date = ANY ($2)
      AND s.agreement_type = 'OrderEditAgreement'
    GROUP BY s.sale_date
    UNION ALL
    SELECT r.refund_date, 0, 0, 0,
           sum(rli.subtotal - CASE WHEN o.taxes_included THEN rli.total_tax ELSE 0 END), 0,
           -sum(rli.total_tax), 0, 0, 0
    FROM core_warehouse.refunds AS r
    JOIN counted AS o ON o.id = r.order_id
    JOIN core_warehouse.refund_line_items AS rli ON rli.shop_id = $1 AND rli.refund_id = r.id
    LEFT JOIN core_warehouse.order_line_items AS gc
      ON gc.shop_id = $1 AND gc.id = rli.line_item_id AND gc.is_gift_card
    WHERE r.shop_id = $1 AND r.refund_date = ANY ($2) AND gc.id IS NULL
    GROUP BY r.refund_date
    UNION ALL
    SELECT r.refund_date, 0, 0, 0, 0,
           -sum(rsl.subtotal - CASE WHEN o.taxes_included THEN rsl.tax ELSE 0 END),
           -sum(rsl.tax), 0, 0, 0
    FROM core_warehouse.refunds AS r
    JOIN counted AS o ON o.id = r.order_id
    JOIN core_warehouse.refund_shipping_lines AS rsl ON rsl.shop_id = $1 AND rsl.refund_id = r.id
    WHERE r.shop_id = $1 AND r.refund_date = ANY ($2)
    GROUP BY r.refund_date
    UNION ALL
    -- Refunded duties and their tax (rules 11, 12); rule 8's order adjustments.
    SELECT r.refund_date, 0, 0, 0, -sum(r.adjustments), 0,
           sum(r.adjustments_tax) - sum(r.duties_tax), -sum(r.duties), 0, 0
    FROM core_warehouse.refunds AS r
    JOIN counted AS o ON o.id = r.order_id
    WHERE r.shop_id = $1 AND r.refund_date = ANY ($2)
      AND (r.duties <> 0 OR r.duties_tax <> 0 OR r.adjustments <> 0 OR r.adjustments_tax <> 0)
    GROUP BY r.refund_date
    UNION ALL
    -- Rule 14: fees kept on returns.
    SELECT rt.return_date, 0, 0, 0, 0, 0, 0, 0, 0,
           sum(rt.restocking_fees + rt.return_shipping_fees)
    FROM core_warehouse.order_returns AS rt
    JOIN counted AS o ON o.id = rt.order_id
    WHERE rt.shop_id = $1 AND rt.return_date = ANY ($2)
      AND (rt.restocking_fees <> 0 OR rt.return_shipping_fees <> 0)
    GROUP BY rt.return_date
    UNION ALL
    -- Rule 13: additional fees given back (a RefundAgreement's AdditionalFeeSale, RETURN: its
    -- amounts are negative; totalAmount holds the fee's tax).
    SELECT s.sale_date, 0, 0, 0, 0, 0, sum(s.total_tax), 0, sum(s.total_amount - s.total_tax), 0
    FROM core_warehouse.order_sales AS s
    JOIN counted AS o ON o.id = s.order_id
    WHERE s.shop_id = $1 AND s.sale_date = ANY ($2)
      AND s.agreement_type = 'RefundAgreement' AND s.line_type = 'ADDITIONAL_FEE'
      AND s.action_type = 'RETURN'
    GROUP BY s.sale_date
),
totals AS (
    SELECT p.day, sum(p.orders)::integer AS orders, sum(p.gross_sales) AS gross_sales,
           sum(p.discounts) AS discounts, sum(p.returns) AS returns,
           sum(p.shipping) AS shipping, sum(p.taxes) AS taxes, sum(p.duties) AS duties,
           sum(p.additional_fees) AS additional_fees, sum(p.return_fees) AS return_fees
    FROM parts AS p GROUP BY p.day
)
SELECT t.day, t.orders, t.gross_sales, t.discounts, t.returns,
       t.gross_sales - t.discounts - t.returns, t.shipping, t.taxes, t.duties, t.additional_fees,
       t.return_fees,
       t.gross_sales - t.discounts - t.returns + t.shipping + t.duties + t.additional_fees
           + t.return_fees + t.taxes
FROM totals AS t
$$;
