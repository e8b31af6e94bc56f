-- The BigQuery mirror's Postgres side (docs/bigquery.md).

-- name: mirror_catalog
-- Every mirrored table (its rows stamped by the mirror_version trigger, revision 0018), its columns in
-- order, their types and their place in the primary key (0: not a key column).
SELECT n.nspname AS schema_name, c.relname AS table_name, a.attname AS column_name,
       format_type(a.atttypid, a.atttypmod) AS column_type,
       coalesce(array_position(pk.indkey::int2[], a.attnum), 0) AS key_position
FROM pg_class AS c
JOIN pg_namespace AS n ON n.oid = c.relnamespace
JOIN pg_attribute AS a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
LEFT JOIN pg_index AS pk ON pk.indrelid = c.oid AND pk.indisprimary
WHERE c.relkind = 'r'
  AND n.nspname IN ('core_warehouse', 'reporting')
  AND EXISTS (SELECT FROM pg_trigger AS tg
              WHERE tg.tgrelid = c.oid AND tg.tgname = 'mirror_version')
ORDER BY n.nspname, c.relname, a.attnum

-- name: mirror_views
-- The reporting views as Postgres stores them (the mirror transpiles them to BigQuery).
SELECT c.relname AS view_name, pg_get_viewdef(c.oid) AS definition
FROM pg_class AS c
JOIN pg_namespace AS n ON n.oid = c.relnamespace
WHERE n.nspname = 'reporting' AND c.relkind = 'v'
ORDER BY c.relname

-- name: mirror_functions
-- The SQL-language helper functions views may call (storeline_private.hubspot_shop_amount …):
-- their argument names and `SELECT <expression>` bodies, inlined into a view's BigQuery SQL.
SELECT p.proname AS name, p.proargnames AS args, p.prosrc AS body
FROM pg_proc AS p
JOIN pg_namespace AS n ON n.oid = p.pronamespace
JOIN pg_language AS l ON l.oid = p.prolang
WHERE n.nspname = 'storeline_private' AND l.lanname = 'sql' AND p.prokind = 'f'

-- name: mirror_shop
-- The shop's own row, mirrored whole on every export as the `shops` table the views join.
SELECT s.id, s.name, s.currency::text AS currency, s.timezone::text AS timezone
FROM app_dashboard.shops AS s
WHERE s.id = $1

-- name: mirror_horizon
-- First statement of a change read (REPEATABLE READ): every transaction below the snapshot's
-- xmin has ended, so a watermark of xmin - 1 never passes a write still in flight. Rows written
-- by transactions at or above xmin that this snapshot already sees are sent again next time
-- (the MERGE is idempotent).
SELECT pg_snapshot_xmin(pg_current_snapshot())::text::bigint - 1

-- name: mirror_watermarks
SELECT table_name, version
FROM app_dashboard.mirror_watermarks
WHERE shop_id = $1 AND target = $2

-- name: mirror_advance
-- Runs in the export job's fenced transaction after the table's MERGE succeeded.
INSERT INTO app_dashboard.mirror_watermarks AS w
    (shop_id, target, table_name, version, rows_mirrored, last_job_id, mirrored_at)
VALUES ($1, $2, $3, $4, $5, $6, now())
ON CONFLICT (shop_id, target, table_name) DO UPDATE
SET version = greatest(w.version, EXCLUDED.version),
    rows_mirrored = w.rows_mirrored + EXCLUDED.rows_mirrored,
    last_job_id = EXCLUDED.last_job_id,
    mirrored_at = EXCLUDED.mirrored_at

-- name: mirror_prune_tombstones
-- Tombstones every target of the shop has passed are no longer needed.
DELETE FROM core_warehouse.mirror_tombstones AS d
WHERE d.shop_id = $1 AND d.table_name = $2
  AND d.mirror_version <= (SELECT min(w.version) FROM app_dashboard.mirror_watermarks AS w
                           WHERE w.shop_id = $1 AND w.table_name = $2)
