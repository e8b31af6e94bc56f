-- Order shapes in the revenue rollup (revision 0016, issues 13 and 22): reporting.shopify_daily_kpis
-- books order edits, exchanges, order adjustments and return fees by the rules of
-- docs/shopify-sales-report.md. Its result gains `return_fees`, so the function is dropped and
-- created again (a RETURNS TABLE cannot change in place); its callers (queries/revenue.sql and
-- the timezone restamp below) name their columns. Each rule lives here once; the facts it sums
-- are filled by the transform (queries/warehouse.sql, core_warehouse/60_shopify_order_shapes.sql):
--   rules 1-6, 10, 11, 19  as in revision 0015 (reporting/40_shopify_revenue_rules.sql): gift
--           cards never sales, tax-inclusive prices net of their tax, duty and fee taxes, foreign
--           shop money never summed.
--   rule 1  an OrderEditAgreement on a later shop-local day than its order counts one order
--           more on that day ("the edit displays as a separate order in your reports").
--   rule 2  a line sold by an edit or a return agreement (its ORDER ProductSale: an added line,
--           an exchange item) has its gross, discounts and taxes on that agreement's day, not
--           the order's.
--   rule 7  an edit's RETURN ProductSale (units removed, no refund) is a return on the edit's
--           day: returns += −(totalAmount − totalTaxAmount), taxes += totalTaxAmount (negative).
--   rule 8  refund money on no refund line (Refund.orderAdjustments): returns += −amount, taxes
--           += tax (both negative when money goes back), on the refund's day.
--   rule 14 restocking and return shipping fees kept on a return are `return_fees`, on the
--           return's day, and part of total sales.
ALTER TABLE reporting.shop_daily_kpis ADD COLUMN return_fees numeric NOT NULL DEFAULT 0;

CREATE OR REPLACE VIEW reporting.daily_revenue WITH (security_invoker = true) AS
SELECT k.shop_id,
       k.day,
       k.orders,
       k.gross_sales,
       k.discounts,
       k.returns,
       k.net_sales,
       k.shipping,
       k.taxes,
       k.total_sales,
       CASE WHEN k.orders > 0
            THEN round((k.gross_sales - k.discounts) / k.orders, 2) END AS aov,
       s.currency::text AS currency,
       k.duties,
       k.additional_fees,
       k.return_fees
FROM reporting.shop_daily_kpis AS k
JOIN app_dashboard.shops AS s ON s.id = k.shop_id;

DROP FUNCTION reporting.shopify_daily_kpis(text, date[]);
CREATE FUNCTION reporting.shopify_daily_kpis(p_shop_id text, p_days date[])
RETURNS TABLE (
    day date, orders integer, gross_sales numeric, discounts numeric, returns numeric,
    net_sales numeric, shipping numeric, taxes numeric, duties numeric,
    additional_fees numeric, return_fees numeric, total_sales numeric)
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
    JOIN core_warehouse.orders AS o
      ON o.shop_id = $1 AND o.id = li.order_id AND NOT o.test AND o.deleted_at IS NULL
     AND coalesce(o.currency = (SELECT s.currency::text FROM app_dashboard.shops AS s
                                WHERE s.id = $1), true)
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
    JOIN core_warehouse.orders AS o
      ON o.shop_id = $1 AND o.id = s.order_id AND NOT o.test AND o.deleted_at IS NULL
     AND coalesce(o.currency = (SELECT c.currency::text FROM app_dashboard.shops AS c
                                WHERE c.id = $1), true)
    WHERE s.shop_id = $1 AND s.sale_date = ANY ($2)
      AND s.agreement_type = 'OrderEditAgreement'
    GROUP BY s.sale_date
    UNION ALL
    SELECT r.refund_date, 0, 0, 0,
           sum(rli.subtotal - CASE WHEN o.taxes_included THEN rli.total_tax ELSE 0 END), 0,
           -sum(rli.total_tax), 0, 0, 0
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
           -sum(rsl.tax), 0, 0, 0
    FROM core_warehouse.refunds AS r
    JOIN core_warehouse.orders AS o
      ON o.shop_id = $1 AND o.id = r.order_id AND NOT o.test AND o.deleted_at IS NULL
     AND coalesce(o.currency = (SELECT s.currency::text FROM app_dashboard.shops AS s
                                WHERE s.id = $1), true)
    JOIN core_warehouse.refund_shipping_lines AS rsl ON rsl.shop_id = $1 AND rsl.refund_id = r.id
    WHERE r.shop_id = $1 AND r.refund_date = ANY ($2)
    GROUP BY r.refund_date
    UNION ALL
    -- Refunded duties and their tax (rules 11, 12); rule 8's order adjustments.
    SELECT r.refund_date, 0, 0, 0, -sum(r.adjustments), 0,
           sum(r.adjustments_tax) - sum(r.duties_tax), -sum(r.duties), 0, 0
    FROM core_warehouse.refunds AS r
    JOIN core_warehouse.orders AS o
      ON o.shop_id = $1 AND o.id = r.order_id AND NOT o.test AND o.deleted_at IS NULL
     AND coalesce(o.currency = (SELECT s.currency::text FROM app_dashboard.shops AS s
                                WHERE s.id = $1), true)
    WHERE r.shop_id = $1 AND r.refund_date = ANY ($2)
      AND (r.duties <> 0 OR r.duties_tax <> 0 OR r.adjustments <> 0 OR r.adjustments_tax <> 0)
    GROUP BY r.refund_date
    UNION ALL
    -- Rule 14: fees kept on returns.
    SELECT rt.return_date, 0, 0, 0, 0, 0, 0, 0, 0,
           sum(rt.restocking_fees + rt.return_shipping_fees)
    FROM core_warehouse.order_returns AS rt
    JOIN core_warehouse.orders AS o
      ON o.shop_id = $1 AND o.id = rt.order_id AND NOT o.test AND o.deleted_at IS NULL
     AND coalesce(o.currency = (SELECT s.currency::text FROM app_dashboard.shops AS s
                                WHERE s.id = $1), true)
    WHERE rt.shop_id = $1 AND rt.return_date = ANY ($2)
      AND (rt.restocking_fees <> 0 OR rt.return_shipping_fees <> 0)
    GROUP BY rt.return_date
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

-- The timezone restamp (core_warehouse/30_shopify_restamp.sql) with the days this revision adds
-- (agreement sales, returns) restamped too and return_fees in the rebuilt rollup.
CREATE OR REPLACE FUNCTION storeline_private.shopify_restamp_shop(p_shop_id text) RETURNS integer
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path = pg_catalog
    SET enable_nestloop = off
AS $$
DECLARE
    tz    text;
    moved integer;
    n     integer;
BEGIN
    SELECT s.timezone INTO tz FROM app_dashboard.shops AS s WHERE s.id = p_shop_id;
    IF tz IS NULL THEN
        RETURN 0;
    END IF;
    UPDATE core_warehouse.orders AS o
    SET processed_date = (o.processed_at AT TIME ZONE tz)::date
    WHERE o.shop_id = p_shop_id AND o.processed_date <> (o.processed_at AT TIME ZONE tz)::date;
    GET DIAGNOSTICS moved = ROW_COUNT;
    UPDATE core_warehouse.refunds AS r
    SET refund_date = (r.created_at AT TIME ZONE tz)::date
    WHERE r.shop_id = p_shop_id AND r.refund_date <> (r.created_at AT TIME ZONE tz)::date;
    GET DIAGNOSTICS n = ROW_COUNT;
    UPDATE core_warehouse.order_sales AS s
    SET sale_date = (s.happened_at AT TIME ZONE tz)::date
    WHERE s.shop_id = p_shop_id AND s.sale_date <> (s.happened_at AT TIME ZONE tz)::date;
    UPDATE core_warehouse.order_returns AS rt
    SET return_date = (rt.booked_at AT TIME ZONE tz)::date
    WHERE rt.shop_id = p_shop_id AND rt.return_date <> (rt.booked_at AT TIME ZONE tz)::date;
    DELETE FROM reporting.shop_daily_kpis AS k WHERE k.shop_id = p_shop_id;
    INSERT INTO reporting.shop_daily_kpis (
        shop_id, day, orders, gross_sales, discounts, returns, net_sales, shipping, taxes,
        duties, additional_fees, return_fees, total_sales, refreshed_at)
    SELECT p_shop_id, t.day, t.orders, t.gross_sales, t.discounts, t.returns, t.net_sales,
           t.shipping, t.taxes, t.duties, t.additional_fees, t.return_fees, t.total_sales,
           pg_catalog.now()
    FROM reporting.shopify_daily_kpis(p_shop_id, ARRAY(
        SELECT o.processed_date FROM core_warehouse.orders AS o WHERE o.shop_id = p_shop_id
        UNION
        SELECT r.refund_date FROM core_warehouse.refunds AS r WHERE r.shop_id = p_shop_id
        UNION
        SELECT s.sale_date FROM core_warehouse.order_sales AS s WHERE s.shop_id = p_shop_id
        UNION
        SELECT rt.return_date FROM core_warehouse.order_returns AS rt
        WHERE rt.shop_id = p_shop_id
    )) AS t;
    RETURN moved + n;
END
$$;
REVOKE ALL ON FUNCTION storeline_private.shopify_restamp_shop(text) FROM PUBLIC;
