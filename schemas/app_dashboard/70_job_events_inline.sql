-- The claim and the batched completion append their own transition events (revision 0007).
--
-- Those two statements move nearly every job twice, and the statement trigger of
-- 60_job_engine_batching.sql cost them a plpgsql call and a join of the transition tables per
-- statement, about a fifth of the claim's time, on the path every job waits for. They now
-- write the same event rows from a data-modifying CTE and mark their transaction with
-- storeline.events_written (set_config(…, true): one transaction only, no session state behind
-- a transaction pooler); the trigger skips such transactions and still logs every other
-- transition, whoever makes it. Idempotent (CREATE OR REPLACE): safe to re-run.

CREATE OR REPLACE FUNCTION storeline_private.sync_jobs_updated() RETURNS trigger
    LANGUAGE plpgsql SECURITY DEFINER SET search_path = '' AS $$
DECLARE
    reason text;
    runnable boolean;
BEGIN
    IF current_setting('storeline.events_written', true) = 'on' THEN
        RETURN NULL;  -- the statement wrote its events itself (claim_jobs, complete_jobs)
    END IF;
    reason := nullif(current_setting('storeline.job_reason', true), '');
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
