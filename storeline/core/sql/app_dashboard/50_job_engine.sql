-- The job engine's database side (docs/job-engine.md, D2 and D5).
--
-- Every status transition of a sync job lands in sync_job_events whoever made it (worker, API,
-- scheduler, a person in psql), so the history cannot miss a path the Python code forgot. A job
-- that becomes runnable also NOTIFYs idle workers; that is only a hint, workers poll as well.
-- SECURITY DEFINER: the API enqueues as `authenticated`, which may not write events itself.
CREATE FUNCTION storeline_private.sync_job_transition() RETURNS trigger
    LANGUAGE plpgsql SECURITY DEFINER SET search_path = '' AS $$
BEGIN
    INSERT INTO app_dashboard.sync_job_events
        (job_id, shop_id, platform, from_status, to_status, attempt, worker_id, detail)
    VALUES (
        NEW.id, NEW.shop_id, NEW.platform,
        CASE WHEN TG_OP = 'UPDATE' THEN OLD.status END,
        NEW.status, NEW.attempts, NEW.worker_id,
        nullif(jsonb_strip_nulls(jsonb_build_object(
            'job_type', NEW.job_type,
            -- Why, when the row alone does not say: set with set_config(…, true), so it lives
            -- for one transaction only (no session state behind a transaction pooler).
            'reason', nullif(current_setting('storeline.job_reason', true), ''),
            'error', CASE WHEN NEW.status IN ('QUEUED', 'FAILED', 'CANCELLED') THEN NEW.error END,
            'run_after', CASE WHEN NEW.status = 'QUEUED' THEN NEW.run_after END
        )), '{}'::jsonb)
    );
    IF NEW.status = 'QUEUED' AND NEW.run_after <= now() THEN
        -- An empty payload: Postgres folds identical notifications of one transaction into one.
        PERFORM pg_notify('storeline_sync_jobs', '');
    END IF;
    RETURN NULL;
END
$$;
REVOKE ALL ON FUNCTION storeline_private.sync_job_transition() FROM PUBLIC;

CREATE TRIGGER sync_jobs_enqueued AFTER INSERT ON app_dashboard.sync_jobs
    FOR EACH ROW EXECUTE FUNCTION storeline_private.sync_job_transition();
CREATE TRIGGER sync_jobs_transition AFTER UPDATE OF status ON app_dashboard.sync_jobs
    FOR EACH ROW WHEN (OLD.status IS DISTINCT FROM NEW.status)
    EXECUTE FUNCTION storeline_private.sync_job_transition();

-- The scheduler's "failed recently, cool off" probe; FAILED rows are otherwise never scanned hot.
CREATE INDEX sync_jobs_recent_failures ON app_dashboard.sync_jobs (shop_id, platform, completed_at)
    WHERE status = 'FAILED';
-- Events are pruned by age (docs/job-engine.md D5: history tables grow to GBs without it).
CREATE INDEX sync_job_events_at_idx ON app_dashboard.sync_job_events (at);
