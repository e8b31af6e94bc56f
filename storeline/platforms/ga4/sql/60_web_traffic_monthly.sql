-- Month totals of GA4's day totals per shop, property, property timezone and currency (issue 18,
-- benchmark goal): a 365-day range of metrics_kpis (storeline/core/sql/reporting/queries/
-- api_metrics.sql) sums about 12 month rows plus its partial months' days. Additive measures
-- only, and `users` as the sum of the days' own counts with `days` beside it: enough for the mean
-- of daily users, never a range's users (docs/platforms/ga4.md, item 5).
--
-- Maintained by statement triggers on core_warehouse.fact_web_traffic_day_totals, in the
-- transaction of whatever writes it (the transform, retention, deletions), which recount the
-- shop-months it touched (the scheme of reporting.shop_monthly_kpis,
-- storeline/platforms/shopify/sql/reporting/80_monthly_kpis.sql). Timezone and currency may be
-- NULL (unknown); NULLs group together.
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

CREATE FUNCTION storeline_private.web_traffic_monthly_refresh() RETURNS trigger
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
        'reporting.web_traffic_monthly_totals', touched);
    EXECUTE format(
        'DELETE FROM reporting.web_traffic_monthly_totals AS m USING (%s) AS t '
        'WHERE m.shop_id = t.shop_id AND m.month = t.month',
        touched);
    EXECUTE format($sql$
        INSERT INTO reporting.web_traffic_monthly_totals
            (shop_id, month, property_id, property_timezone, currency, days, sessions, users,
             new_users, engaged_sessions, transactions, purchase_revenue)
        SELECT t.shop_id, t.month, d.property_id, d.property_timezone, d.currency, count(*),
               sum(d.sessions), sum(d.users), sum(d.new_users), sum(d.engaged_sessions),
               sum(d.transactions), sum(d.purchase_revenue)
        FROM (%s) AS t
        JOIN core_warehouse.fact_web_traffic_day_totals AS d
          ON d.shop_id = t.shop_id AND d.day >= t.month AND d.day < t.month + interval '1 month'
        GROUP BY t.shop_id, t.month, d.property_id, d.property_timezone, d.currency
    $sql$, touched);
    RETURN NULL;
END
$$;
REVOKE ALL ON FUNCTION storeline_private.web_traffic_monthly_refresh() FROM PUBLIC;

CREATE TRIGGER monthly_on_insert AFTER INSERT ON core_warehouse.fact_web_traffic_day_totals
    REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION storeline_private.web_traffic_monthly_refresh();
CREATE TRIGGER monthly_on_update AFTER UPDATE ON core_warehouse.fact_web_traffic_day_totals
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION storeline_private.web_traffic_monthly_refresh();
CREATE TRIGGER monthly_on_delete AFTER DELETE ON core_warehouse.fact_web_traffic_day_totals
    REFERENCING OLD TABLE AS old_rows
    FOR EACH STATEMENT EXECUTE FUNCTION storeline_private.web_traffic_monthly_refresh();

INSERT INTO reporting.web_traffic_monthly_totals
    (shop_id, property_id, month, property_timezone, currency, days, sessions, users, new_users,
     engaged_sessions, transactions, purchase_revenue)
SELECT t.shop_id, t.property_id, date_trunc('month', t.day)::date, t.property_timezone,
       t.currency, count(*), sum(t.sessions), sum(t.users), sum(t.new_users),
       sum(t.engaged_sessions), sum(t.transactions), sum(t.purchase_revenue)
FROM core_warehouse.fact_web_traffic_day_totals AS t
GROUP BY 1, 2, 3, 4, 5;
