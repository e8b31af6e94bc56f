-- Month totals kept beside a daily table (revision 0028, issue 18's benchmark goal): a 365-day
-- range of metrics_kpis (reporting/queries/api_metrics.sql) sums about 12 month rows plus the
-- days of its partial months instead of 365 day rows per shop. One scheme for every such table
-- (reporting.shop_monthly_kpis, reporting.marketing_monthly_totals,
-- reporting.web_traffic_monthly_totals); a platform's file creates its month table and calls
-- storeline_private.monthly_rollup once.
--
-- Statement triggers on the daily table keep the month table current in the transaction of
-- whatever writes the days (a rollup refresh, a restamp, retention, deletions). Each recounts
-- the shop-months its statement touched from their day rows — a recount, not added
-- differences: a sum keeps the scale its current days give it — under a per-shop lock held to
-- commit, so two writers of one shop cannot recount from each other's stale snapshots. A month
-- row has `days` (how many day rows it sums) and the sum of each measure, per shop, month and
-- the table's extra keys; a month without day rows has no row. A month row equals the sum of its
-- day rows (tests/platforms/test_monthly_rollups.py).

-- The statements that recount the shop-months `touched` (a query of shop_id, month) of `target`
-- from `source`: lock their shops (if asked), delete their rows, insert their sums. `keys`/`sums`:
-- comma-separated column names. Statements, not run here: the trigger runs them itself, since
-- its transition tables are visible only to its own EXECUTEs.
CREATE FUNCTION storeline_private.monthly_recount_sql(
    target text, source text, keys text, sums text, touched text, lock_shops boolean
) RETURNS text[]
    LANGUAGE plpgsql IMMUTABLE
    SET search_path = pg_catalog
AS $$
DECLARE
    key_list text[] := coalesce(string_to_array(nullif(keys, ''), ','), '{}');
    sum_list text[] := string_to_array(sums, ',');
    key_names text := (SELECT coalesce(string_agg(format(', %I', k), ''), '')
                       FROM unnest(key_list) AS k);
    key_cols text := (SELECT coalesce(string_agg(format(', d.%I', k), ''), '')
                      FROM unnest(key_list) AS k);
    sum_names text := (SELECT string_agg(format(', %I', c), '') FROM unnest(sum_list) AS c);
    sum_cols text := (SELECT string_agg(format(', sum(d.%I)', c), '') FROM unnest(sum_list) AS c);
    statements text[] := '{}';
BEGIN
    IF lock_shops THEN
        -- One writer per shop from here to commit; each statement below takes a fresh
        -- snapshot, so the recount sees every committed day of the shop.
        statements := statements || format(
            'SELECT pg_advisory_xact_lock(hashtext(%L), hashtext(t.shop_id)) '
            'FROM (SELECT DISTINCT y.shop_id FROM (%s) AS y ORDER BY 1) AS t',
            target, touched);
    END IF;
    RETURN statements || format(
        'DELETE FROM %s AS m USING (%s) AS t WHERE m.shop_id = t.shop_id AND m.month = t.month',
        target, touched) || format(
        'INSERT INTO %s (shop_id, month%s, days%s) '
        'SELECT t.shop_id, t.month%s, count(*)%s FROM (%s) AS t '
        'JOIN %s AS d ON d.shop_id = t.shop_id AND d.day >= t.month '
        ' AND d.day < t.month + interval ''1 month'' '
        'GROUP BY t.shop_id, t.month%s',
        target, key_names, sum_names, key_cols, sum_cols, touched, source, key_cols);
END
$$;
REVOKE ALL ON FUNCTION storeline_private.monthly_recount_sql(text, text, text, text, text, boolean)
    FROM PUBLIC;

-- The triggers' function: TG_ARGV = (target, keys, sums). SECURITY DEFINER: a timezone restamp
-- runs as whoever changed the shop's timezone.
CREATE FUNCTION storeline_private.monthly_rollup_refresh() RETURNS trigger
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path = pg_catalog
AS $$
DECLARE
    statement text;
BEGIN
    -- The shop-months the statement touched (transition tables are visible to EXECUTE, so one
    -- function serves inserts, updates and deletes).
    FOREACH statement IN ARRAY storeline_private.monthly_recount_sql(
        TG_ARGV[0], format('%I.%I', TG_TABLE_SCHEMA, TG_TABLE_NAME), TG_ARGV[1], TG_ARGV[2],
        format('SELECT DISTINCT x.shop_id, date_trunc(''month'', x.day)::date AS month '
               'FROM (%s) AS x',
               CASE TG_OP
                   WHEN 'INSERT' THEN 'SELECT shop_id, day FROM new_rows'
                   WHEN 'DELETE' THEN 'SELECT shop_id, day FROM old_rows'
                   ELSE 'SELECT shop_id, day FROM new_rows '
                        'UNION ALL SELECT shop_id, day FROM old_rows'
               END),
        true)
    LOOP
        EXECUTE statement;
    END LOOP;
    RETURN NULL;
END
$$;
REVOKE ALL ON FUNCTION storeline_private.monthly_rollup_refresh() FROM PUBLIC;

-- Keep `target` (shop_id, month, keys…, days, sums…) as the month totals of `source` (shop_id,
-- day, keys…, sums…): its three statement triggers, and the months already there filled.
CREATE FUNCTION storeline_private.monthly_rollup(
    source regclass, target regclass, keys text[], sums text[]
) RETURNS void
    LANGUAGE plpgsql
    SET search_path = pg_catalog
AS $$
DECLARE
    args text := format('%L, %L, %L', target::text, array_to_string(keys, ','),
                        array_to_string(sums, ','));
    statement text;
    event record;
BEGIN
    FOR event IN
        SELECT * FROM (VALUES
            ('insert', 'NEW TABLE AS new_rows'),
            ('update', 'OLD TABLE AS old_rows NEW TABLE AS new_rows'),
            ('delete', 'OLD TABLE AS old_rows')) AS e(op, transition)
    LOOP
        EXECUTE format('CREATE TRIGGER %I AFTER %s ON %s REFERENCING %s FOR EACH STATEMENT '
                       'EXECUTE FUNCTION storeline_private.monthly_rollup_refresh(%s)',
                       'monthly_on_' || event.op, upper(event.op), source, event.transition,
                       args);
    END LOOP;
    -- Filled inside the migration's transaction: no writer runs beside it, so no shop locks
    -- (one per shop could outgrow the lock table).
    FOREACH statement IN ARRAY storeline_private.monthly_recount_sql(
        target::text, source::text, array_to_string(keys, ','), array_to_string(sums, ','),
        format('SELECT DISTINCT shop_id, date_trunc(''month'', day)::date AS month FROM %s',
               source),
        false)
    LOOP
        EXECUTE statement;
    END LOOP;
END
$$;
REVOKE ALL ON FUNCTION storeline_private.monthly_rollup(regclass, regclass, text[], text[])
    FROM PUBLIC;
