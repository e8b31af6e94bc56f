-- Duties and additional fees in the revenue rollup (revision 0005). Shopify's "Total sales" =
-- net sales + shipping + duties + additional fees + taxes: the rollup keeps both as their own
-- columns (duties net of refunded duties, which count on the refund's day) and total_sales
-- includes them (schemas/reporting/queries/revenue.sql). The view gains the two columns at the
-- end (CREATE OR REPLACE VIEW may only append).
ALTER TABLE reporting.shop_daily_kpis
    ADD COLUMN duties          numeric NOT NULL DEFAULT 0,
    ADD COLUMN additional_fees numeric NOT NULL DEFAULT 0;

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
       k.additional_fees
FROM reporting.shop_daily_kpis AS k
JOIN app_dashboard.shops AS s ON s.id = k.shop_id;
