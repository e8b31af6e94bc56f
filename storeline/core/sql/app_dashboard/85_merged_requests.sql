-- Merged requests (revision 0010): a stronger request that joins an existing job makes it a new
-- job of the stronger type, and every event of a merge names its real cause.
--
-- A request joins a job instead of queueing its own (one QUEUED per (shop, platform)) in four
-- places: enqueue_job (saving a credential: queries/jobs.sql), api_connect_platform and
-- api_fold_into_queued (the API, below), and requeue_job absorbing the job queued while it ran
-- (absorb_queued_sibling, queries/jobs.sql). Where the request is stronger
-- (75_job_type_strength.sql), the job it joins
--   * gets a fresh attempt budget: its attempts so far were spent on the weaker type, and a
--     requested rebuild must not be dropped after one try because an INCREMENTAL had failed
--     five times;
--   * forgets its progress: it records the weaker type's fetch steps (an incremental's filtered
--     bulk export marked done), which the stronger type must not resume;
--   * logs the upgrade: an event QUEUED → QUEUED (or the requeue's own event) with
--     detail.upgraded_from, so the history explains the new type and the attempt count restarting.
--
-- Causes: storeline.job_reason is transaction-local and sync_jobs_updated reads it after every
-- statement, so a reason set for one statement was also given to every later transition of the
-- transaction. The reaper set "lease expired; reaped by …" for its requeue, and the
-- absorb_queued_sibling statement before the requeue logged the superseded job's CANCELLED
-- event with it. Statements that log a transition with a cause now set the reason inside
-- themselves (absorb_queued_sibling, requeue_job), and an upgrade without a reason says what it
-- was.

-- Whether a request of type p_requested upgrades a job of type p_current. Plain SQL, inlined.
CREATE FUNCTION storeline_private.job_type_upgrades(p_current text, p_requested text)
    RETURNS boolean LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT coalesce(storeline_private.job_type_strength(p_requested)
                    > storeline_private.job_type_strength(p_current), false)
$$;

-- 60_job_engine_batching.sql's update trigger function, which now also logs an upgrade (a row
-- whose type got stronger, its status unchanged) and marks the event of every upgraded row with
-- the type it had. The trigger itself (70_job_events_inline.sql) is unchanged.
CREATE OR REPLACE FUNCTION storeline_private.sync_jobs_updated() RETURNS trigger
    LANGUAGE plpgsql SECURITY DEFINER SET search_path = '' AS $$
DECLARE
    reason text := nullif(current_setting('storeline.job_reason', true), '');
    runnable boolean;
BEGIN
    WITH moved AS (
        SELECT n.id, n.shop_id, n.platform, o.status AS from_status, n.status, n.attempts,
               n.worker_id, n.job_type, n.error, n.run_after,
               CASE WHEN storeline_private.job_type_upgrades(o.job_type, n.job_type)
                    THEN o.job_type END AS upgraded_from
        FROM new_jobs AS n
        JOIN old_jobs AS o ON o.id = n.id
        WHERE o.status IS DISTINCT FROM n.status
           OR storeline_private.job_type_upgrades(o.job_type, n.job_type)
    ),
    logged AS (
        INSERT INTO app_dashboard.sync_job_events
            (job_id, shop_id, platform, from_status, to_status, attempt, worker_id, detail)
        SELECT m.id, m.shop_id, m.platform, m.from_status, m.status, m.attempts, m.worker_id,
               CASE WHEN m.upgraded_from IS NULL THEN d.detail
                    ELSE coalesce(d.detail, '{}'::jsonb)
                         || jsonb_build_object('upgraded_from', m.upgraded_from) END
        FROM moved AS m
        CROSS JOIN LATERAL (
            SELECT storeline_private.sync_job_event_detail(
                m.job_type, m.status, m.error, m.run_after,
                coalesce(reason, CASE WHEN m.from_status = m.status
                                      THEN 'upgraded: a ' || m.job_type || ' request joined it'
                                 END)) AS detail
        ) AS d
        ORDER BY m.id
    )
    SELECT coalesce(bool_or(from_status IS DISTINCT FROM status
                            AND status = 'QUEUED' AND run_after <= now()), false)
    INTO runnable
    FROM moved;
    IF runnable THEN
        -- An empty payload: Postgres folds identical notifications of one transaction into one.
        PERFORM pg_notify('storeline_sync_jobs', '');
    END IF;
    RETURN NULL;
END
$$;
REVOKE ALL ON FUNCTION storeline_private.sync_jobs_updated() FROM PUBLIC;

-- 80_api_writes.sql's connect, whose HISTORICAL_INIT now upgrades a weaker job already queued
-- (it was answered with that job, and the backfill was lost) and lifts it to the backfill's
-- priority.
CREATE OR REPLACE FUNCTION storeline_private.api_connect_platform(
    p_shop_id text, p_platform text, p_key_id text, p_ciphertext bytea, p_metadata jsonb
) RETURNS bigint LANGUAGE plpgsql SECURITY DEFINER SET search_path = '' AS $$
DECLARE
    v_job bigint;
BEGIN
    IF NOT storeline_private.api_member_of(p_shop_id) THEN
        RETURN NULL;
    END IF;
    PERFORM storeline_private.api_require_credential_manager();
    INSERT INTO app_dashboard.shop_credentials (shop_id, platform, key_id, ciphertext, metadata)
    VALUES (p_shop_id, p_platform, p_key_id, p_ciphertext, p_metadata)
    ON CONFLICT (shop_id, platform) DO UPDATE
    SET key_id = EXCLUDED.key_id, ciphertext = EXCLUDED.ciphertext, metadata = EXCLUDED.metadata,
        status = 'OK', status_reason = NULL, updated_at = now();
    PERFORM storeline_private.api_sweep_cancelled(p_shop_id, p_platform);
    -- Each statement sees what committed before it started: a conflicting job committed by
    -- someone else is found by the SELECT; one claimed in between is gone, so insert again.
    FOR attempt IN 1..3 LOOP
        INSERT INTO app_dashboard.sync_jobs AS j
            (shop_id, platform, job_type, priority, requested_by)
        VALUES (p_shop_id, p_platform, 'HISTORICAL_INIT', 10, (SELECT auth.uid()))
        ON CONFLICT (shop_id, platform) WHERE status = 'QUEUED' DO UPDATE
        SET job_type = EXCLUDED.job_type, attempts = 0, progress = '{}'::jsonb,
            priority = least(j.priority, EXCLUDED.priority)
        WHERE storeline_private.job_type_upgrades(j.job_type, EXCLUDED.job_type)
        RETURNING id INTO v_job;
        IF v_job IS NULL THEN
            SELECT q.id INTO v_job FROM app_dashboard.sync_jobs AS q
            WHERE q.shop_id = p_shop_id AND q.platform = p_platform AND q.status = 'QUEUED';
        END IF;
        EXIT WHEN v_job IS NOT NULL;
    END LOOP;
    RETURN v_job;
END
$$;

-- 80_api_writes.sql's fold, whose upgrade now also resets the attempts and the progress.
CREATE OR REPLACE FUNCTION storeline_private.api_fold_into_queued(
    p_shop_id text, p_platform text, p_job_type text
) RETURNS TABLE (id bigint, job_type text, upgraded boolean)
    LANGUAGE plpgsql SECURITY DEFINER SET search_path = '' AS $$
#variable_conflict use_column
BEGIN
    IF NOT storeline_private.api_member_of(p_shop_id) THEN
        RETURN;
    END IF;
    PERFORM storeline_private.api_sweep_cancelled(p_shop_id, p_platform);
    RETURN QUERY
    WITH queued AS (
        SELECT j.id, j.job_type
        FROM app_dashboard.sync_jobs AS j
        WHERE j.shop_id = p_shop_id AND j.platform = p_platform AND j.status = 'QUEUED'
        FOR UPDATE
    ),
    upgraded AS (
        UPDATE app_dashboard.sync_jobs AS j
        SET job_type = p_job_type, attempts = 0, progress = '{}'::jsonb
        FROM queued
        WHERE j.id = queued.id AND j.status = 'QUEUED'
          AND storeline_private.job_type_upgrades(queued.job_type, p_job_type)
        RETURNING j.id
    )
    SELECT q.id, CASE WHEN u.id IS NULL THEN q.job_type ELSE p_job_type END, u.id IS NOT NULL
    FROM queued AS q LEFT JOIN upgraded AS u ON u.id = q.id;
END
$$;
