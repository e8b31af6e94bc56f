-- Month totals of the ad-spend facts per shop, platform and account currency (issue 18,
-- benchmark goal): a 365-day range of metrics_kpis (storeline/core/sql/reporting/queries/
-- api_metrics.sql) sums about 12 month rows plus its partial months' days.
--
-- Maintained by statement triggers on core_warehouse.fact_marketing_daily, in the transaction of
-- whatever writes it (the Meta transform, retention, deletions), which recount the shop-months
-- it touched (the scheme of reporting.shop_monthly_kpis,
-- storeline/platforms/shopify/sql/reporting/80_monthly_kpis.sql).
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

CREATE FUNCTION storeline_private.marketing_monthly_refresh() RETURNS trigger
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path = pg_catalog
AS $$
DECLARE
    -- The shop-months the statement touched (transition tables are visible to EXECUTE, so one
    -- function serves inserts, updates and deletes).
    touched text := format(
        'SELECT DISTINCT x.shop_id, date_trunc(''month'', x.day)::date AS month FROM (%s) AS x',
        CASE TG_OP
            WHEN 'INSERT' THEN 'SELECT shop_id, day FROM new_rows'
            WHEN 'DELETE' THEN 'SELECT shop_id, day FROM old_rows'
            ELSE 'SELECT shop_id, day FROM new_rows UNION ALL SELECT shop_id, day FROM old_rows'
        END);
BEGIN
    -- One writer per shop from here to commit; each statement below takes a fresh snapshot, so
    -- the recount sees every committed day of the shop, a concurrent writer's included.
    EXECUTE format(
        'SELECT pg_advisory_xact_lock(hashtext(%L), hashtext(t.shop_id)) '
        'FROM (SELECT DISTINCT y.shop_id FROM (%s) AS y ORDER BY 1) AS t',
        'reporting.marketing_monthly_totals', touched);
    EXECUTE format(
        'DELETE FROM reporting.marketing_monthly_totals AS m USING (%s) AS t '
        'WHERE m.shop_id = t.shop_id AND m.month = t.month',
        touched);
    EXECUTE format($sql$
        INSERT INTO reporting.marketing_monthly_totals
            (shop_id, month, platform, currency, days, spend, impressions, clicks, purchases,
             purchase_value)
        SELECT t.shop_id, t.month, d.platform, d.currency, count(*), sum(d.spend),
               sum(d.impressions), sum(d.clicks), sum(d.purchases), sum(d.purchase_value)
        FROM (%s) AS t
        JOIN core_warehouse.fact_marketing_daily AS d
          ON d.shop_id = t.shop_id AND d.day >= t.month AND d.day < t.month + interval '1 month'
        GROUP BY t.shop_id, t.month, d.platform, d.currency
    $sql$, touched);
    RETURN NULL;
END
$$;
REVOKE ALL ON FUNCTION storeline_private.marketing_monthly_refresh() FROM PUBLIC;

CREATE TRIGGER monthly_on_insert AFTER INSERT ON core_warehouse.fact_marketing_daily
    REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION storeline_private.marketing_monthly_refresh();
CREATE TRIGGER monthly_on_update AFTER UPDATE ON core_warehouse.fact_marketing_daily
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION storeline_private.marketing_monthly_refresh();
CREATE TRIGGER monthly_on_delete AFTER DELETE ON core_warehouse.fact_marketing_daily
    REFERENCING OLD TABLE AS old_rows
    FOR EACH STATEMENT EXECUTE FUNCTION storeline_private.marketing_monthly_refresh();

INSERT INTO reporting.marketing_monthly_totals
    (shop_id, platform, month, currency, days, spend, impressions, clicks, purchases,
     purchase_value)
SELECT f.shop_id, f.platform, date_trunc('month', f.day)::date, f.currency, count(*),
       sum(f.spend), sum(f.impressions), sum(f.clicks), sum(f.purchases), sum(f.purchase_value)
FROM core_warehouse.fact_marketing_daily AS f
GROUP BY 1, 2, 3, 4;
