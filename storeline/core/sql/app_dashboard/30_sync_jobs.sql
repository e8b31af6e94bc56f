-- The job queue (docs/job-engine.md, D1–D5).
CREATE TABLE app_dashboard.sync_jobs (
    id               bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    shop_id          text NOT NULL REFERENCES app_dashboard.shops (id) ON DELETE CASCADE,
    platform         text NOT NULL CHECK (platform IN ('SHOPIFY', 'META', 'GA4', 'HUBSPOT')),
    job_type         text NOT NULL
        CHECK (job_type IN ('HISTORICAL_INIT', 'HISTORICAL_REBUILD', 'INCREMENTAL')),
    status           text NOT NULL DEFAULT 'QUEUED'
        CHECK (status IN ('QUEUED', 'IN_PROGRESS', 'SUCCEEDED', 'FAILED', 'CANCELLED')),
    priority         smallint NOT NULL DEFAULT 100,  -- lower runs first
    run_after        timestamptz NOT NULL DEFAULT now(),
    attempts         integer NOT NULL DEFAULT 0 CHECK (attempts >= 0),
    max_attempts     integer NOT NULL DEFAULT 6 CHECK (max_attempts >= 1),
    lease_token      uuid,
    lease_expires_at timestamptz,
    worker_id        text,
    cancel_requested boolean NOT NULL DEFAULT false,
    records_synced   bigint NOT NULL DEFAULT 0,
    progress         jsonb NOT NULL DEFAULT '{}'::jsonb,
    -- {code, message, task, retryable[, stack]}; never a secret.
    error            jsonb,
    requested_by     uuid,
    created_at       timestamptz NOT NULL DEFAULT now(),
    started_at       timestamptz,
    completed_at     timestamptz,
    CHECK ((status = 'IN_PROGRESS') = (lease_token IS NOT NULL AND lease_expires_at IS NOT NULL))
) WITH (fillfactor = 70, autovacuum_vacuum_scale_factor = 0.01, autovacuum_vacuum_cost_delay = 0);

-- One waiting and one running job per (shop, platform): enqueue is INSERT … ON CONFLICT DO NOTHING.
CREATE UNIQUE INDEX sync_jobs_one_queued ON app_dashboard.sync_jobs (shop_id, platform)
    WHERE status = 'QUEUED';
CREATE UNIQUE INDEX sync_jobs_one_running ON app_dashboard.sync_jobs (shop_id, platform)
    WHERE status = 'IN_PROGRESS';
-- The claim's scan and the reaper's scan touch only live rows.
CREATE INDEX sync_jobs_claimable ON app_dashboard.sync_jobs (priority, run_after, id)
    WHERE status = 'QUEUED';
CREATE INDEX sync_jobs_leases ON app_dashboard.sync_jobs (lease_expires_at)
    WHERE status = 'IN_PROGRESS';
CREATE INDEX sync_jobs_shop_history ON app_dashboard.sync_jobs (shop_id, platform, created_at DESC);

-- Append-only history of every transition.
CREATE TABLE app_dashboard.sync_job_events (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    job_id      bigint NOT NULL REFERENCES app_dashboard.sync_jobs (id) ON DELETE CASCADE,
    shop_id     text NOT NULL,
    platform    text NOT NULL,
    at          timestamptz NOT NULL DEFAULT now(),
    from_status text,
    to_status   text NOT NULL,
    attempt     integer NOT NULL DEFAULT 0,
    worker_id   text,
    detail      jsonb
);
CREATE INDEX sync_job_events_job_idx ON app_dashboard.sync_job_events (job_id, id);
CREATE INDEX sync_job_events_shop_idx ON app_dashboard.sync_job_events (shop_id, at DESC);

-- Where each (shop, platform) sync got to. Advanced only in the transaction that marks a job
-- SUCCEEDED, fenced by its lease token.
CREATE TABLE app_dashboard.sync_cursors (
    shop_id         text NOT NULL REFERENCES app_dashboard.shops (id) ON DELETE CASCADE,
    platform        text NOT NULL CHECK (platform IN ('SHOPIFY', 'META', 'GA4', 'HUBSPOT')),
    watermark       jsonb NOT NULL DEFAULT '{}'::jsonb,
    last_success_at timestamptz,
    last_job_id     bigint,
    updated_at      timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (shop_id, platform)
);
