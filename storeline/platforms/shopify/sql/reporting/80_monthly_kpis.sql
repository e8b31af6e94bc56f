-- Month totals of the revenue rollup (issue 18, benchmark goal): a 365-day range sums about 12
-- month rows plus the days of its partial months instead of 365 day rows per shop
-- (metrics_kpis, storeline/core/sql/reporting/queries/api_metrics.sql).
--
-- Maintained by statement triggers on reporting.shop_daily_kpis, so every writer keeps it
-- current in its own transaction: the rollup refresh (storeline/platforms/shopify/rollup.py),
-- the timezone restamp (core_warehouse/30_shopify_restamp.sql), deletions. A trigger recounts
-- each shop-month the statement touched from its day rows (a recount, not added differences:
-- a sum keeps the scale its current days give it), under a per-shop lock held to commit so two
-- writers of one shop cannot recount from each other's stale snapshots. `days` counts the
-- month's day rows; a month without any has no row. A month row equals the sum of its day rows
-- (tests/platforms/test_monthly_rollups.py).
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

-- SECURITY DEFINER: the restamp runs as whoever changed the shop's timezone.
CREATE FUNCTION storeline_private.shop_monthly_kpis_refresh() RETURNS trigger
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
        'reporting.shop_monthly_kpis', touched);
    EXECUTE format(
        'DELETE FROM reporting.shop_monthly_kpis AS m USING (%s) AS t '
        'WHERE m.shop_id = t.shop_id AND m.month = t.month',
        touched);
    EXECUTE format($sql$
        INSERT INTO reporting.shop_monthly_kpis
            (shop_id, month, days, orders, gross_sales, discounts, returns, net_sales, shipping,
             taxes, duties, additional_fees, return_fees, total_sales)
        SELECT t.shop_id, t.month, count(*), sum(d.orders), sum(d.gross_sales),
               sum(d.discounts), sum(d.returns), sum(d.net_sales), sum(d.shipping), sum(d.taxes),
               sum(d.duties), sum(d.additional_fees), sum(d.return_fees), sum(d.total_sales)
        FROM (%s) AS t
        JOIN reporting.shop_daily_kpis AS d
          ON d.shop_id = t.shop_id AND d.day >= t.month AND d.day < t.month + interval '1 month'
        GROUP BY t.shop_id, t.month
    $sql$, touched);
    RETURN NULL;
END
$$;
REVOKE ALL ON FUNCTION storeline_private.shop_monthly_kpis_refresh() FROM PUBLIC;

CREATE TRIGGER monthly_on_insert AFTER INSERT ON reporting.shop_daily_kpis
    REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION storeline_private.shop_monthly_kpis_refresh();
CREATE TRIGGER monthly_on_update AFTER UPDATE ON reporting.shop_daily_kpis
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION storeline_private.shop_monthly_kpis_refresh();
CREATE TRIGGER monthly_on_delete AFTER DELETE ON reporting.shop_daily_kpis
    REFERENCING OLD TABLE AS old_rows
    FOR EACH STATEMENT EXECUTE FUNCTION storeline_private.shop_monthly_kpis_refresh();

INSERT INTO reporting.shop_monthly_kpis
    (shop_id, month, days, orders, gross_sales, discounts, returns, net_sales, shipping, taxes,
     duties, additional_fees, return_fees, total_sales)
SELECT k.shop_id, date_trunc('month', k.day)::date, count(*), sum(k.orders), sum(k.gross_sales),
       sum(k.discounts), sum(k.returns), sum(k.net_sales), sum(k.shipping), sum(k.taxes),
       sum(k.duties), sum(k.additional_fees), sum(k.return_fees), sum(k.total_sales)
FROM reporting.shop_daily_kpis AS k
GROUP BY 1, 2;

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
