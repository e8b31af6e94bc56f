-- HubSpot raw rows: one CRM object or deal pipeline per line, wrapped as
-- {"kind", "source": list | archived | search, "object": <as HubSpot returned it>} by the connector
-- (worker/connectors/hubspot/objects.py), loaded by the kit's fenced staging writer
-- (worker/kit/staging.py), read by the transform in queries.sql.
CREATE TABLE staging_ingest.hubspot_raw (
    sync_job_id bigint NOT NULL,
    shop_id     text NOT NULL,
    line_no     bigint NOT NULL,
    payload     jsonb NOT NULL,
    fetched_at  timestamptz NOT NULL DEFAULT now(),
    kind        text GENERATED ALWAYS AS (payload ->> 'kind') STORED,
    object_id   text GENERATED ALWAYS AS (payload -> 'object' ->> 'id') STORED,
    PRIMARY KEY (sync_job_id, line_no)
) WITH (autovacuum_vacuum_scale_factor = 0.05);

GRANT SELECT, INSERT, DELETE ON staging_ingest.hubspot_raw TO service_role;
