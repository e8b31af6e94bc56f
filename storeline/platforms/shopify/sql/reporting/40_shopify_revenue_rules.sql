-- Revision 0015 (issue 13): the revenue rules of docs/shopify-sales-report.md for gift cards,
-- tax-inclusive prices, tax on duties and fees and foreign shop money. The rules themselves are
-- in reporting.shopify_daily_kpis, whose one definition is reporting/75_shopify_daily_kpis.sql;
-- the per-line figures it sums are columns of core_warehouse/50_shopify_revenue_rules.sql.

-- Rule 19's flag: the orders reporting.shopify_daily_kpis leaves out because their shop money
-- is in another currency than the shop's (no conversion rule is sourced yet), per shop and the
-- order's shop-local day. Test and deleted orders are not listed (they never count anyway).
CREATE VIEW reporting.shopify_foreign_money_orders WITH (security_invoker = true) AS
SELECT o.shop_id, o.processed_date AS day, o.id AS order_id, o.name, o.currency,
       s.currency::text AS shop_currency
FROM core_warehouse.orders AS o
JOIN app_dashboard.shops AS s ON s.id = o.shop_id
WHERE o.currency <> s.currency::text AND NOT o.test AND o.deleted_at IS NULL;
