-- Month totals of the ad-spend facts per shop, platform and account currency (issue 18,
-- benchmark goal): a 365-day range of metrics_kpis (storeline/core/sql/reporting/queries/
-- api_metrics.sql) sums about 12 month rows plus its partial months' days.
--
-- Kept by storeline_private.monthly_rollup (storeline/core/sql/reporting/50_monthly_rollup.sql)
-- in the transaction of whatever writes core_warehouse.fact_marketing_daily (the Meta
-- transform, retention, deletions).
CREATE TABLE reporting.marketing_monthly_totals (
    shop_id        text NOT NULL,
    platform       text NOT NULL,
    month          date NOT NULL,
    currency       text NOT NULL,
    days           integer NOT NULL,
    spend          numeric NOT NULL,
    impressions    bigint NOT NULL,
    clicks         bigint NOT NULL,
    purchases      numeric NOT NULL,
    purchase_value numeric NOT NULL,
    PRIMARY KEY (shop_id, month, platform, currency)
);
SELECT storeline_private.enable_shop_rls('reporting.marketing_monthly_totals');

SELECT storeline_private.monthly_rollup(
    'core_warehouse.fact_marketing_daily', 'reporting.marketing_monthly_totals',
    '{platform,currency}', '{spend,impressions,clicks,purchases,purchase_value}');
