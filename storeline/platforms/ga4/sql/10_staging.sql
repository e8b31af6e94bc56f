-- GA4 raw pages: one row per runReport page exactly as the Data API returned it, wrapped with the
-- day or range and offset it answers (worker/connectors/ga4/reports.py), tagged with the job that
-- fetched it; loaded by the kit's fenced staging writer (worker/kit/staging.py), read by the
-- transform in queries.sql.
CREATE TABLE staging_ingest.ga4_reports_raw (
    sync_job_id bigint NOT NULL,
    shop_id     text NOT NULL,
    line_no     bigint NOT NULL,
    payload     jsonb NOT NULL,
    fetched_at  timestamptz NOT NULL DEFAULT now(),
    kind        text GENERATED ALWAYS AS (payload ->> 'kind') STORED,
    PRIMARY KEY (sync_job_id, line_no)
) WITH (autovacuum_vacuum_scale_factor = 0.05);

GRANT SELECT, INSERT, DELETE ON staging_ingest.ga4_reports_raw TO service_role;
