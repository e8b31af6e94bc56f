-- Month totals of the revenue rollup (issue 18, benchmark goal), kept by
-- storeline_private.monthly_rollup (storeline/core/sql/reporting/50_monthly_rollup.sql): every
-- writer of reporting.shop_daily_kpis (the rollup refresh, storeline/platforms/shopify/rollup.py;
-- the timezone restamp, core_warehouse/30_shopify_restamp.sql; deletions) keeps it current in
-- its own transaction. `days` counts the month's day rows.
CREATE TABLE reporting.shop_monthly_kpis (
    shop_id         text NOT NULL,
    month           date NOT NULL,
    days            integer NOT NULL,
    orders          bigint NOT NULL,
    gross_sales     numeric NOT NULL,
    discounts       numeric NOT NULL,
    returns         numeric NOT NULL,
    net_sales       numeric NOT NULL,
    shipping        numeric NOT NULL,
    taxes           numeric NOT NULL,
    duties          numeric NOT NULL,
    additional_fees numeric NOT NULL,
    return_fees     numeric NOT NULL,
    total_sales     numeric NOT NULL,
    PRIMARY KEY (shop_id, month)
);
SELECT storeline_private.enable_shop_rls('reporting.shop_monthly_kpis');

SELECT storeline_private.monthly_rollup(
    'reporting.shop_daily_kpis', 'reporting.shop_monthly_kpis', '{}',
    '{orders,gross_sales,discounts,returns,net_sales,shipping,taxes,duties,additional_fees,'
    'return_fees,total_sales}');

-- What reporting.daily_figures sums to over a whole month: the month's order-level total, with
-- each provisional day's rollup row (if any) taken out and Shopify's own figure, as
-- daily_figures shows it, put in (docs/shopify-sales-report.md, "Reconciliation"). Which days
-- are provisional and what they show stays daily_figures' rule: the provisional parts are its
-- rows. Signed parts, not a GROUP BY, so a reader's shop and month conditions reach each
-- table's index; readers sum them.
CREATE VIEW reporting.monthly_figure_parts WITH (security_invoker = true) AS
SELECT m.shop_id, m.month, m.orders, m.gross_sales, m.discounts, m.returns, m.net_sales,
       m.shipping, m.taxes, m.duties, m.additional_fees, m.return_fees, m.total_sales,
       0 AS provisional_days
FROM reporting.shop_monthly_kpis AS m
UNION ALL
SELECT k.shop_id, date_trunc('month', k.day)::date, -k.orders, -k.gross_sales, -k.discounts,
       -k.returns, -k.net_sales, -k.shipping, -k.taxes, -k.duties, -k.additional_fees,
       -k.return_fees, -k.total_sales, 0
FROM reporting.shop_daily_kpis AS k
JOIN reporting.daily_figures AS p ON p.shop_id = k.shop_id AND p.day = k.day AND p.provisional
UNION ALL
SELECT p.shop_id, date_trunc('month', p.day)::date, p.orders, p.gross_sales, p.discounts,
       p.returns, p.net_sales, p.shipping, p.taxes, p.duties, p.additional_fees, p.return_fees,
       p.total_sales, 1
FROM reporting.daily_figures AS p
WHERE p.provisional;

GRANT SELECT ON reporting.monthly_figure_parts TO authenticated;
