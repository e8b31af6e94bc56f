-- Revenue per shop and shop-local day, as Shopify's sales report defines it (docs/shopify-sales-report.md; the
-- rules are spelled out in schemas/reporting/queries/revenue.sql, which fills this table).
--
-- shop_daily_kpis is the rollup dashboards read: the Shopify transform refreshes exactly the
-- (shop, day) pairs it touched, so reads never scan order facts. A day without sales or returns
-- has no row. daily_revenue is the stable reading surface (adds AOV and the shop currency) and
-- runs with the caller's rights, so RLS on both tables decides what a user sees.
CREATE TABLE reporting.shop_daily_kpis (
    shop_id      text NOT NULL,
    day          date NOT NULL,
    orders       integer NOT NULL DEFAULT 0,
    gross_sales  numeric NOT NULL DEFAULT 0,
    discounts    numeric NOT NULL DEFAULT 0,
    returns      numeric NOT NULL DEFAULT 0,
    net_sales    numeric NOT NULL DEFAULT 0,
    shipping     numeric NOT NULL DEFAULT 0,
    taxes        numeric NOT NULL DEFAULT 0,
    total_sales  numeric NOT NULL DEFAULT 0,
    refreshed_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (shop_id, day)
);
SELECT storeline_private.enable_shop_rls('reporting.shop_daily_kpis');

-- AOV = (gross sales − discounts) / orders placed that day (Shopify's definition since
-- 2023-01), rounded half-up to the cent (numeric round()); NULL on a day without orders.
CREATE VIEW reporting.daily_revenue WITH (security_invoker = true) AS
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
       s.currency::text AS currency
FROM reporting.shop_daily_kpis AS k
JOIN app_dashboard.shops AS s ON s.id = k.shop_id;

GRANT SELECT ON reporting.daily_revenue TO authenticated;
