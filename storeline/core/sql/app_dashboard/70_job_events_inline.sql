-- The claim and the batched completion append their own transition events (revision 0007).
--
-- Those two statements move nearly every job twice, and the statement trigger of
-- 60_job_engine_batching.sql cost them a plpgsql call and a join of the transition tables per
-- statement, about a fifth of the claim's time, on the path every job waits for. They now
-- write the same event rows from a data-modifying CTE and mark their transaction with
-- storeline.events_written (set_config(…, true): one transaction only, no session state behind
-- a transaction pooler). The trigger's WHEN skips such transactions before its function is
-- called, and every other transition is still logged, whoever makes it. (A statement trigger's
-- WHEN may not read the rows, but it may read a setting; transition tables allow it.)
-- Idempotent (DROP … IF EXISTS): safe to re-run.

DROP TRIGGER IF EXISTS sync_jobs_updated ON app_dashboard.sync_jobs;
CREATE TRIGGER sync_jobs_updated AFTER UPDATE ON app_dashboard.sync_jobs
    REFERENCING OLD TABLE AS old_jobs NEW TABLE AS new_jobs
    FOR EACH STATEMENT
    WHEN (current_setting('storeline.events_written', true) IS DISTINCT FROM 'on')
    EXECUTE FUNCTION storeline_private.sync_jobs_updated();
