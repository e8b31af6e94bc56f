-- The BigQuery mirror (docs/bigquery.md), revision 0018.
--
-- BIGQUERY joins the platform domain: an export runs as a job of the engine with its own
-- (shop, platform) slot, so a failed or slow export never holds up a shop's syncs. It has no
-- per-shop credential (its service account comes from settings), so shop_credentials refuses it.
ALTER DOMAIN app_dashboard.platform DROP CONSTRAINT platform_known;
ALTER DOMAIN app_dashboard.platform ADD CONSTRAINT platform_known
    CHECK (VALUE IN ('SHOPIFY', 'META', 'GA4', 'HUBSPOT', 'BIGQUERY'));
ALTER TABLE app_dashboard.shop_credentials
    ADD CONSTRAINT shop_credentials_source_platform CHECK (platform <> 'BIGQUERY');

-- How far each (shop, target, table) is mirrored: rows whose mirror_version is above `version`
-- have not reached the target yet. Written only by the export job's lease holder, in a fenced
-- transaction after that table's MERGE succeeded (storeline/export/bigquery/mirror.py).
CREATE TABLE app_dashboard.mirror_watermarks (
    shop_id text NOT NULL REFERENCES app_dashboard.shops (id) ON DELETE CASCADE,
    target app_dashboard.platform NOT NULL,
    table_name text NOT NULL,
    version bigint NOT NULL,
    rows_mirrored bigint NOT NULL DEFAULT 0,
    last_job_id bigint,
    mirrored_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (shop_id, target, table_name)
);
SELECT storeline_private.enable_shop_rls('app_dashboard.mirror_watermarks');

-- Keys of deleted warehouse rows, so a deletion reaches the mirror (facts replaced per day, order
-- children pruned after an edit, deleted orders). Recorded only for shops that are mirrored (a
-- shop's first mirror copies what exists); pruned once every target has passed them.
CREATE TABLE core_warehouse.mirror_tombstones (
    shop_id text NOT NULL,
    table_name text NOT NULL,
    key jsonb NOT NULL,                    -- the primary key after shop_id, in key order
    mirror_version bigint NOT NULL,        -- the deleting transaction (as mirror_version below)
    deleted_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX mirror_tombstones_pending
    ON core_warehouse.mirror_tombstones (shop_id, table_name, mirror_version);
SELECT storeline_private.enable_shop_rls('core_warehouse.mirror_tombstones');

-- mirror_version: the 64-bit id of the transaction that last wrote the row (xid8, which never
-- wraps). A trigger sets it, so every write path (upserts, restamps, fixes by hand) is seen
-- without each connector remembering to. An export reads `mirror_version > watermark` and moves
-- the watermark to its snapshot's xmin - 1, never past a transaction still in flight.
CREATE FUNCTION storeline_private.stamp_mirror_version() RETURNS trigger
    LANGUAGE plpgsql AS $$
BEGIN
    NEW.mirror_version := pg_current_xact_id()::text::bigint;
    RETURN NEW;
END
$$;

-- One statement-level trigger per table: its transition table holds the deleted rows; the key
-- columns come as trigger arguments.
CREATE FUNCTION storeline_private.record_mirror_deletes() RETURNS trigger
    LANGUAGE plpgsql AS $$
BEGIN
    EXECUTE format(
        'INSERT INTO core_warehouse.mirror_tombstones (shop_id, table_name, key, mirror_version) '
        'SELECT g.shop_id, %L, jsonb_build_array(%s), pg_current_xact_id()::text::bigint '
        'FROM gone AS g WHERE g.shop_id IN (SELECT w.shop_id FROM app_dashboard.mirror_watermarks AS w)',
        TG_TABLE_NAME,
        (SELECT string_agg(format('g.%I', k), ', ') FROM unnest(TG_ARGV) AS k));
    RETURN NULL;
END
$$;

-- Mirror one shop-keyed table: its mirror_version column, index and trigger, and the trigger
-- recording deleted keys (its primary key without shop_id). A later revision that adds a table
-- the mirror should carry calls this for it (storeline/export/bigquery/tables.py declares its
-- partition date).
CREATE FUNCTION storeline_private.mirror_table(t regclass) RETURNS void
    LANGUAGE plpgsql AS $$
DECLARE
    keys text;
BEGIN
    EXECUTE format('ALTER TABLE %s ADD COLUMN mirror_version bigint NOT NULL DEFAULT 0', t);
    EXECUTE format('CREATE INDEX %I ON %s (shop_id, mirror_version)',
                   (SELECT relname FROM pg_class WHERE oid = t) || '_mirror_version', t);
    EXECUTE format('CREATE TRIGGER mirror_version BEFORE INSERT OR UPDATE ON %s '
                   'FOR EACH ROW EXECUTE FUNCTION storeline_private.stamp_mirror_version()', t);
    SELECT string_agg(quote_literal(a.attname), ', ' ORDER BY k.ord) INTO keys
    FROM pg_index AS i
    CROSS JOIN LATERAL unnest(i.indkey) WITH ORDINALITY AS k (attnum, ord)
    JOIN pg_attribute AS a ON a.attrelid = i.indrelid AND a.attnum = k.attnum
    WHERE i.indrelid = t AND i.indisprimary AND a.attname <> 'shop_id';
    EXECUTE format('CREATE TRIGGER mirror_deletes AFTER DELETE ON %s '
                   'REFERENCING OLD TABLE AS gone FOR EACH STATEMENT '
                   'EXECUTE FUNCTION storeline_private.record_mirror_deletes(%s)', t, keys);
END
$$;
REVOKE ALL ON FUNCTION storeline_private.mirror_table(regclass) FROM PUBLIC;

-- The mirrored tables: every shop-keyed warehouse table and the daily KPI rollup. A table is
-- mirrored when it has the mirror_version trigger (storeline/export/bigquery/tables.py reads that).
SELECT storeline_private.mirror_table(t)
FROM unnest(ARRAY[
    'core_warehouse.orders', 'core_warehouse.order_line_items',
    'core_warehouse.order_shipping_lines', 'core_warehouse.transactions',
    'core_warehouse.refunds', 'core_warehouse.refund_line_items',
    'core_warehouse.refund_shipping_lines', 'core_warehouse.customers',
    'core_warehouse.order_sales', 'core_warehouse.order_returns',
    'core_warehouse.fact_marketing_daily', 'core_warehouse.fact_marketing_campaign_daily',
    'core_warehouse.fact_web_traffic_daily', 'core_warehouse.fact_web_traffic_day_totals',
    'core_warehouse.crm_deals', 'core_warehouse.crm_contacts',
    'core_warehouse.crm_companies', 'core_warehouse.crm_pipeline_stages',
    'reporting.shop_daily_kpis', 'reporting.shopify_reported_daily']::regclass[]) AS t;
