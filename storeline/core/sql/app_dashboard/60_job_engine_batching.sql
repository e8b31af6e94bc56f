-- Transition events per statement, not per row (revision 0004; replaces 50_job_engine.sql's
-- row triggers).
--
-- The claim and the batched completion move many jobs in one statement. A row trigger ran a
-- plpgsql call and a one-row INSERT for each of them (about a fifth of the claim's time); these
-- statement triggers read the statement's transition tables and append every event with one
-- INSERT … SELECT. Same rows as before: one per status change, whoever made it (worker, API,
-- scheduler, a person in psql), and a NOTIFY hint when a job became runnable.
-- Transition tables rule out `UPDATE OF status` and WHEN, so the update trigger fires for every
-- UPDATE of sync_jobs and keeps only the rows whose status changed.
-- Idempotent (CREATE OR REPLACE, DROP … IF EXISTS): safe to re-run.

DROP TRIGGER IF EXISTS sync_jobs_enqueued ON app_dashboard.sync_jobs;
DROP TRIGGER IF EXISTS sync_jobs_transition ON app_dashboard.sync_jobs;
DROP FUNCTION IF EXISTS storeline_private.sync_job_transition();

-- What an event says beyond the row's columns. The reason is set with set_config(…, true): it
-- lives for one transaction only (no session state behind a transaction pooler). No SET clause,
-- so the planner inlines it into the triggers' INSERT (it only calls pg_catalog functions).
CREATE OR REPLACE FUNCTION storeline_private.sync_job_event_detail(
    p_job_type text, p_status text, p_error jsonb, p_run_after timestamptz, p_reason text
) RETURNS jsonb
    LANGUAGE sql STABLE PARALLEL SAFE AS $$
    SELECT nullif(jsonb_strip_nulls(jsonb_build_object(
        'job_type', p_job_type,
        'reason', p_reason,
        'error', CASE WHEN p_status IN ('QUEUED', 'FAILED', 'CANCELLED') THEN p_error END,
        'run_after', CASE WHEN p_status = 'QUEUED' THEN p_run_after END
    )), '{}'::jsonb)
$$;

-- SECURITY DEFINER: the API enqueues as `authenticated`, which may not write events itself.
CREATE OR REPLACE FUNCTION storeline_private.sync_jobs_inserted() RETURNS trigger
    LANGUAGE plpgsql SECURITY DEFINER SET search_path = '' AS $$
DECLARE
    reason text := nullif(current_setting('storeline.job_reason', true), '');
BEGIN
    INSERT INTO app_dashboard.sync_job_events
        (job_id, shop_id, platform, from_status, to_status, attempt, worker_id, detail)
    SELECT n.id, n.shop_id, n.platform, NULL, n.status, n.attempts, n.worker_id,
           storeline_private.sync_job_event_detail(n.job_type, n.status, n.error, n.run_after,
                                                   reason)
    FROM new_jobs AS n
    ORDER BY n.id;
    IF EXISTS (SELECT 1 FROM new_jobs WHERE status = 'QUEUED' AND run_after <= now()) THEN
        -- An empty payload: Postgres folds identical notifications of one transaction into one.
        PERFORM pg_notify('storeline_sync_jobs', '');
    END IF;
    RETURN NULL;
END
$$;

CREATE OR REPLACE FUNCTION storeline_private.sync_jobs_updated() RETURNS trigger
    LANGUAGE plpgsql SECURITY DEFINER SET search_path = '' AS $$
DECLARE
    reason text := nullif(current_setting('storeline.job_reason', true), '');
    runnable boolean;
BEGIN
    WITH moved AS (
        SELECT n.id, n.shop_id, n.platform, o.status AS from_status, n.status, n.attempts,
               n.worker_id, n.job_type, n.error, n.run_after
        FROM new_jobs AS n
        JOIN old_jobs AS o ON o.id = n.id
        WHERE o.status IS DISTINCT FROM n.status
    ),
    logged AS (
        INSERT INTO app_dashboard.sync_job_events
            (job_id, shop_id, platform, from_status, to_status, attempt, worker_id, detail)
        SELECT id, shop_id, platform, from_status, status, attempts, worker_id,
               storeline_private.sync_job_event_detail(job_type, status, error, run_after, reason)
        FROM moved
        ORDER BY id
    )
    SELECT coalesce(bool_or(status = 'QUEUED' AND run_after <= now()), false)
    INTO runnable
    FROM moved;
    IF runnable THEN
        PERFORM pg_notify('storeline_sync_jobs', '');
    END IF;
    RETURN NULL;
END
$$;
REVOKE ALL ON FUNCTION storeline_private.sync_jobs_inserted(),
    storeline_private.sync_jobs_updated() FROM PUBLIC;

DROP TRIGGER IF EXISTS sync_jobs_inserted ON app_dashboard.sync_jobs;
CREATE TRIGGER sync_jobs_inserted AFTER INSERT ON app_dashboard.sync_jobs
    REFERENCING NEW TABLE AS new_jobs
    FOR EACH STATEMENT EXECUTE FUNCTION storeline_private.sync_jobs_inserted();
DROP TRIGGER IF EXISTS sync_jobs_updated ON app_dashboard.sync_jobs;
CREATE TRIGGER sync_jobs_updated AFTER UPDATE ON app_dashboard.sync_jobs
    REFERENCING OLD TABLE AS old_jobs NEW TABLE AS new_jobs
    FOR EACH STATEMENT EXECUTE FUNCTION storeline_private.sync_jobs_updated();
