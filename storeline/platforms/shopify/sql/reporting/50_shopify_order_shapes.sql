-- Order shapes in the revenue rollup (revision 0016, issues 13 and 22): the return_fees figure
-- (rule 14 of docs/shopify-sales-report.md) in reporting.shop_daily_kpis and
-- reporting.daily_revenue, and the timezone restamp covering the days order edits, exchanges and
-- returns add. The rules for edits, exchanges, order adjustments and return fees (1, 2, 7, 8, 14)
-- are in reporting/75_shopify_daily_kpis.sql with the others.
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

-- Its result gains return_fees: a RETURNS TABLE cannot change in place, so the function is
-- dropped here and created again by reporting/75_shopify_daily_kpis.sql, which revision 0016
-- applies next.
DROP FUNCTION reporting.shopify_daily_kpis(text, date[]);

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
