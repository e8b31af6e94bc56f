-- Writes the API makes on a user's behalf that RLS grants cannot express (revision 0009).
--
-- `authenticated` has no privilege on shop_credentials (tokens are never readable by users) and
-- may only set cancel_requested on sync_jobs. Connecting, disconnecting and folding a sync request
-- into an already queued job therefore run as SECURITY DEFINER functions that check the caller
-- themselves: the shop must be one of theirs (else NULL: the API answers 404, as for a shop that
-- does not exist) and, for credentials, their role must be AGENCY_OWNER or AGENCY_STAFF (else
-- SQLSTATE 42501: 403). search_path is empty, so every name below is schema-qualified.

-- The caller may see the shop (user_shops); the one visibility rule every function here starts with.
CREATE FUNCTION storeline_private.api_member_of(p_shop_id text) RETURNS boolean
    LANGUAGE sql STABLE SECURITY DEFINER SET search_path = '' AS $$
    SELECT p_shop_id = ANY (ARRAY(SELECT storeline_private.user_shop_ids()))
$$;

CREATE FUNCTION storeline_private.api_require_credential_manager() RETURNS void
    LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = '' AS $$
BEGIN
    IF coalesce(storeline_private.user_role(), '') NOT IN ('AGENCY_OWNER', 'AGENCY_STAFF') THEN
        RAISE EXCEPTION 'only agency owners and staff manage platform connections'
            USING ERRCODE = 'insufficient_privilege';
    END IF;
END
$$;

-- A QUEUED job someone asked to cancel never runs (the claim skips it) but would hold the
-- one-QUEUED slot until the reaper sweeps it; finishing it here, exactly as the sweep would, keeps
-- a new request from being answered with a job that will never run.
CREATE FUNCTION storeline_private.api_sweep_cancelled(p_shop_id text, p_platform text)
    RETURNS void LANGUAGE sql SECURITY DEFINER SET search_path = '' AS $$
    UPDATE app_dashboard.sync_jobs
    SET status = 'CANCELLED', completed_at = now(),
        error = jsonb_build_object('code', 'cancelled', 'message', 'cancelled before it ran',
                                   'task', 'queue', 'retryable', false)
    WHERE shop_id = p_shop_id AND platform = p_platform AND status = 'QUEUED' AND cancel_requested
$$;

-- Store a credential sealed by the API (AES-GCM, storeline/crypto.py: the database never sees a
-- token in clear) and queue its HISTORICAL_INIT. Returns the queued job's id, the existing one
-- if a job was already queued for (shop, platform); NULL when the shop is not the caller's.
CREATE FUNCTION storeline_private.api_connect_platform(
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
        INSERT INTO app_dashboard.sync_jobs (shop_id, platform, job_type, priority, requested_by)
        VALUES (p_shop_id, p_platform, 'HISTORICAL_INIT', 10, (SELECT auth.uid()))
        ON CONFLICT (shop_id, platform) WHERE status = 'QUEUED' DO NOTHING
        RETURNING id INTO v_job;
        IF v_job IS NULL THEN
            SELECT j.id INTO v_job FROM app_dashboard.sync_jobs AS j
            WHERE j.shop_id = p_shop_id AND j.platform = p_platform AND j.status = 'QUEUED';
        END IF;
        EXIT WHEN v_job IS NOT NULL;
    END LOOP;
    RETURN v_job;
END
$$;

-- Remove a platform's credential: its queued jobs are cancelled ('disconnected'), a running one
-- is asked to stop. Cursors and every warehouse/staging row stay (reconnecting resumes from
-- them; deleting a client's history is a separate, deliberate act). NULL when the shop is not
-- the caller's, false when the platform was not connected.
CREATE FUNCTION storeline_private.api_disconnect_platform(p_shop_id text, p_platform text)
    RETURNS boolean LANGUAGE plpgsql SECURITY DEFINER SET search_path = '' AS $$
BEGIN
    IF NOT storeline_private.api_member_of(p_shop_id) THEN
        RETURN NULL;
    END IF;
    PERFORM storeline_private.api_require_credential_manager();
    DELETE FROM app_dashboard.shop_credentials WHERE shop_id = p_shop_id AND platform = p_platform;
    IF NOT FOUND THEN
        RETURN false;
    END IF;
    UPDATE app_dashboard.sync_jobs
    SET cancel_requested = true,
        status = CASE WHEN status = 'QUEUED' THEN 'CANCELLED' ELSE status END,
        completed_at = CASE WHEN status = 'QUEUED' THEN now() ELSE completed_at END,
        error = CASE WHEN status = 'QUEUED'
                     THEN jsonb_build_object('code', 'disconnected',
                                             'message', 'the platform was disconnected',
                                             'task', 'queue', 'retryable', false)
                     ELSE error END
    WHERE shop_id = p_shop_id AND platform = p_platform AND status IN ('QUEUED', 'IN_PROGRESS');
    RETURN true;
END
$$;

-- The QUEUED job a sync request folds into (the API's INSERT under RLS found one). A stronger
-- request upgrades it (storeline_private.job_type_strength, as requeue_job does), so asking
-- for a rebuild while an incremental waits is never lost; a weaker one leaves it alone.
-- Returns (id, job_type, upgraded); no row when nothing is queued (any more: claimed, or swept
-- because it was cancelled), so the caller inserts again.
CREATE FUNCTION storeline_private.api_fold_into_queued(
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
        SET job_type = p_job_type
        FROM queued
        WHERE j.id = queued.id AND j.status = 'QUEUED'
          AND storeline_private.job_type_strength(p_job_type)
              > storeline_private.job_type_strength(queued.job_type)
        RETURNING j.id
    )
    SELECT q.id, CASE WHEN u.id IS NULL THEN q.job_type ELSE p_job_type END, u.id IS NOT NULL
    FROM queued AS q LEFT JOIN upgraded AS u ON u.id = q.id;
END
$$;

REVOKE ALL ON FUNCTION storeline_private.api_member_of(text),
    storeline_private.api_require_credential_manager(),
    storeline_private.api_sweep_cancelled(text, text),
    storeline_private.api_connect_platform(text, text, text, bytea, jsonb),
    storeline_private.api_disconnect_platform(text, text),
    storeline_private.api_fold_into_queued(text, text, text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION
    storeline_private.api_connect_platform(text, text, text, bytea, jsonb),
    storeline_private.api_disconnect_platform(text, text),
    storeline_private.api_fold_into_queued(text, text, text) TO authenticated;
