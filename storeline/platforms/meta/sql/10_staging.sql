-- Meta raw rows: one row per insights row or ad-account node exactly as the Graph API returned it,
-- tagged with the job that fetched it; loaded by the kit's fenced staging writer
-- (storeline/worker/kit/staging.py), read by the transform in queries.sql.
-- account_id is generated from the payload (insights rows carry the number, the account node
-- its id `act_<number>` and the number), kind tells the two apart.
CREATE TABLE staging_ingest.meta_insights_raw (
    sync_job_id bigint NOT NULL,
    shop_id     text NOT NULL,
    line_no     bigint NOT NULL,
    payload     jsonb NOT NULL,
    fetched_at  timestamptz NOT NULL DEFAULT now(),
    account_id  text GENERATED ALWAYS AS ('act_' || (payload ->> 'account_id')) STORED,
    kind        text GENERATED ALWAYS AS (
        CASE WHEN payload ? 'date_start' THEN 'insight' ELSE 'account' END) STORED,
    PRIMARY KEY (sync_job_id, line_no)
) WITH (autovacuum_vacuum_scale_factor = 0.05);

GRANT SELECT, INSERT, DELETE ON staging_ingest.meta_insights_raw TO service_role;
