-- Month totals of GA4's day totals per shop, property, property timezone and currency (issue 18,
-- benchmark goal): a 365-day range of metrics_kpis (storeline/core/sql/reporting/queries/
-- api_metrics.sql) sums about 12 month rows plus its partial months' days. Additive measures
-- only, and `users` as the sum of the days' own counts with `days` beside it: enough for the mean
-- of daily users, never a range's users (docs/platforms/ga4.md, item 5).
--
-- Kept by storeline_private.monthly_rollup (storeline/core/sql/reporting/50_monthly_rollup.sql)
-- in the transaction of whatever writes core_warehouse.fact_web_traffic_day_totals (the
-- transform, retention, deletions). Timezone and currency may be NULL (unknown); NULLs group
-- together (GROUP BY does; the month rows are deleted and inserted, never matched on them).
CREATE TABLE reporting.web_traffic_monthly_totals (
    shop_id           text NOT NULL,
    property_id       text NOT NULL,
    month             date NOT NULL,
    property_timezone text,
    currency          text,
    days              integer NOT NULL,
    sessions          bigint NOT NULL,
    users             bigint NOT NULL,
    new_users         bigint NOT NULL,
    engaged_sessions  bigint NOT NULL,
    transactions      bigint NOT NULL,
    purchase_revenue  numeric NOT NULL,
    UNIQUE NULLS NOT DISTINCT (shop_id, month, property_id, property_timezone, currency)
);
SELECT storeline_private.enable_shop_rls('reporting.web_traffic_monthly_totals');

SELECT storeline_private.monthly_rollup(
    'core_warehouse.fact_web_traffic_day_totals', 'reporting.web_traffic_monthly_totals',
    '{property_id,property_timezone,currency}',
    '{sessions,users,new_users,engaged_sessions,transactions,purchase_revenue}');
