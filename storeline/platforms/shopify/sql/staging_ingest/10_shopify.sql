-- Shopify raw rows: one row per JSONL line exactly as Shopify returned it (bulk operation files,
-- and paginated pages converted to the same line shape), tagged with the job that fetched it.
-- Loaded with COPY by worker/connectors/shopify/load.py; read by the set-based transform in
-- schemas/core_warehouse/queries/shopify.sql.
--
-- gid, typename, object_id and parent_* are generated from the payload, so the loader streams
-- lines without parsing them and Postgres (which parses the jsonb anyway) derives the keys.
-- `typename` falls back to the gid's type when a line has no __typename.
--
-- The only index is the primary key: every reader (transform, prune, retention) selects by job.
-- No foreign key to app_dashboard.sync_jobs: a per-row FK check would dominate COPY time.
-- Retention (load.prune_staging): rows of finished jobs older than a cut-off are deleted, except
-- each shop's last N successful jobs; nothing is lost because core_warehouse keeps every
-- object's latest `raw` JSON beside its typed columns.
-- No grants to `authenticated`: raw data never reaches users.

-- Redefined, inlinable, by core_warehouse/40_shopify_inline_helpers.sql (revision 0006).
CREATE FUNCTION storeline_private.shopify_gid_id(gid text) RETURNS bigint
    LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT CASE WHEN s ~ '^[0-9]{1,18}$' THEN s::bigint END
    FROM (SELECT split_part(split_part(gid, '/', 5), '?', 1) AS s) AS parts
$$;

CREATE TABLE staging_ingest.shopify_bulk_rows (
    sync_job_id bigint NOT NULL,
    shop_id     text NOT NULL,
    line_no     bigint NOT NULL,
    payload     jsonb NOT NULL,
    fetched_at  timestamptz NOT NULL DEFAULT now(),
    gid         text GENERATED ALWAYS AS (payload ->> 'id') STORED,
    typename    text GENERATED ALWAYS AS (
        coalesce(payload ->> '__typename', split_part(payload ->> 'id', '/', 4))) STORED,
    parent_gid  text GENERATED ALWAYS AS (payload ->> '__parentId') STORED,
    object_id   bigint GENERATED ALWAYS AS (
        storeline_private.shopify_gid_id(payload ->> 'id')) STORED,
    parent_id   bigint GENERATED ALWAYS AS (
        storeline_private.shopify_gid_id(payload ->> '__parentId')) STORED,
    PRIMARY KEY (sync_job_id, line_no)
) WITH (autovacuum_vacuum_scale_factor = 0.05);

GRANT SELECT, INSERT, DELETE ON staging_ingest.shopify_bulk_rows TO service_role;
