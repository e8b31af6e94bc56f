-- One role matrix, enforced here (revision 0019; docs/security.md#roles writes it out).
--
--   action                               owner   staff   store user
--   register a shop (Shopify proof)        yes     no      no
--   delete a shop and its data             yes     no      no
--   connect / disconnect a platform        yes     yes     no
--   request an incremental sync            yes     yes     yes
--   request a rebuild                      yes     yes     no
--   cancel a job                           yes     yes     the jobs they requested
--   rename a shop                          yes     yes     no
--   change currency / timezone             nobody: Shopify's shop settings are the truth
--                                          (the worker copies them, shop_profile.py)
--
-- `authenticated` (what Supabase's Data API exposes) therefore writes nothing directly but a
-- shop's name and its own default shop: every other write is a SECURITY DEFINER function below
-- that checks the caller's shop and role itself, so a route bug or a raw SQL client gets no more
-- than the matrix. search_path is empty in each, so every name is schema-qualified.
--
-- Errors the caller is meant to read are raised with SQLSTATEs of class SL (storeline/api/
-- problems.py maps them to an HTTP status and passes their message on): SL403 not allowed for
-- this role, SL404 no such shop or job for this caller, SL409 conflicts with the current state,
-- SL422 a value breaks a rule. Their messages never echo input.

-- Internal functions are internal: only the helpers policies call (each answers about the caller
-- alone) and the api_* entry points stay executable by `authenticated`. Trigger functions need
-- no EXECUTE privilege to fire.
REVOKE EXECUTE ON ALL FUNCTIONS IN SCHEMA storeline_private FROM PUBLIC, authenticated, anon;
GRANT EXECUTE ON FUNCTION storeline_private.user_shop_ids(), storeline_private.user_agency_id(),
    storeline_private.user_role() TO authenticated;

-- Shops: read by members, renamed by owners and staff; created and deleted only through the
-- functions below (registration needs proof, deletion takes the shop's data with it).
ALTER TABLE app_dashboard.shops ADD COLUMN verified_at timestamptz;
COMMENT ON COLUMN app_dashboard.shops.verified_at IS
    'When an agency last proved the shop is theirs with a working Shopify credential; NULL: '
    'never proven (a shop made by the CLI or a seed), which blocks no other agency.';
REVOKE INSERT, UPDATE ON app_dashboard.shops FROM authenticated;
GRANT UPDATE (name, updated_at) ON app_dashboard.shops TO authenticated;
DROP POLICY owner_create ON app_dashboard.shops;
DROP POLICY members_update ON app_dashboard.shops;
CREATE POLICY managers_rename ON app_dashboard.shops FOR UPDATE TO authenticated
    USING (id = ANY (ARRAY(SELECT storeline_private.user_shop_ids()))
           AND (SELECT storeline_private.user_role()) IN ('AGENCY_OWNER', 'AGENCY_STAFF'))
    WITH CHECK (id = ANY (ARRAY(SELECT storeline_private.user_shop_ids())));

-- user_shops: a user only moves their own default; links are made by registration.
REVOKE INSERT ON app_dashboard.user_shops FROM authenticated;
DROP POLICY owner_links_self ON app_dashboard.user_shops;

-- sync_jobs: read by members; requested and cancelled through the functions below only.
REVOKE INSERT, UPDATE ON app_dashboard.sync_jobs FROM authenticated;
DROP POLICY members_request ON app_dashboard.sync_jobs;
DROP POLICY members_cancel ON app_dashboard.sync_jobs;

-- The unknown-zone trigger (10_tenants.sql) said so with the input in its text; a rename never
-- touches the zone now, but the worker's copy of Shopify's settings still goes through it.
CREATE OR REPLACE FUNCTION storeline_private.check_timezone() RETURNS trigger
    LANGUAGE plpgsql AS $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_catalog.pg_timezone_names WHERE name = NEW.timezone) THEN
        RAISE EXCEPTION 'the time zone is not a known IANA name'
            USING ERRCODE = 'SL422', HINT = 'use an IANA name such as Europe/Berlin';
    END IF;
    RETURN NEW;
END
$$;
REVOKE ALL ON FUNCTION storeline_private.check_timezone() FROM PUBLIC;

CREATE FUNCTION storeline_private.api_require_role(p_roles text[], p_action text) RETURNS void
    LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = '' AS $$
BEGIN
    IF coalesce(storeline_private.user_role(), '') <> ALL (p_roles) THEN
        RAISE EXCEPTION 'your role may not %', p_action USING ERRCODE = 'SL403';
    END IF;
END
$$;

-- storeline.job_reason is transaction-local and anyone may set it, so every definer function
-- that moves a job clears it first: a value the caller set before the call never becomes what
-- the history says (events then carry the triggers' own wording, 85_merged_requests.sql).
CREATE FUNCTION storeline_private.api_set_reason(p_reason text) RETURNS void
    LANGUAGE sql SECURITY DEFINER SET search_path = '' AS $$
    SELECT set_config('storeline.job_reason', coalesce(p_reason, ''), true)
$$;

-- connect / disconnect: the 80_api_writes.sql functions, now with the reason pinned. Owners and
-- staff only (api_require_credential_manager, unchanged).
CREATE OR REPLACE FUNCTION storeline_private.api_disconnect_platform(p_shop_id text, p_platform text)
    RETURNS boolean LANGUAGE plpgsql SECURITY DEFINER SET search_path = '' AS $$
BEGIN
    IF NOT storeline_private.api_member_of(p_shop_id) THEN
        RETURN NULL;
    END IF;
    PERFORM storeline_private.api_require_credential_manager();
    PERFORM storeline_private.api_set_reason(NULL);
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

-- Metadata is shown to every member (reporting.sync_status `account`): no secret-looking key at
-- any depth, and at most 16 KiB. The API refuses the same with a reason first
-- (storeline/api/routes/platforms.py); this holds for any other caller of the function.
CREATE FUNCTION storeline_private.metadata_is_safe(p_metadata jsonb) RETURNS boolean
    LANGUAGE sql IMMUTABLE PARALLEL SAFE SET search_path = '' AS $$
    SELECT jsonb_typeof(p_metadata) = 'object'
       AND octet_length(p_metadata::text) <= 16384
       AND NOT EXISTS (
           SELECT 1
           FROM jsonb_path_query(p_metadata, 'strict $.**') AS n(node)
           CROSS JOIN LATERAL jsonb_object_keys(
               CASE WHEN jsonb_typeof(n.node) = 'object' THEN n.node END) AS k(key)
           WHERE k.key ~* '(token|secret|password|passwd|credential|api_?key|private_?key)')
$$;

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
    IF NOT storeline_private.metadata_is_safe(p_metadata) THEN
        RAISE EXCEPTION 'metadata must be an object under 16 KiB without secret-looking keys'
            USING ERRCODE = 'SL422';
    END IF;
    PERFORM storeline_private.api_set_reason(NULL);
    INSERT INTO app_dashboard.shop_credentials (shop_id, platform, key_id, ciphertext, metadata)
    VALUES (p_shop_id, p_platform, p_key_id, p_ciphertext, p_metadata)
    ON CONFLICT (shop_id, platform) DO UPDATE
    SET key_id = EXCLUDED.key_id, ciphertext = EXCLUDED.ciphertext, metadata = EXCLUDED.metadata,
        status = 'OK', status_reason = NULL, updated_at = now();
    PERFORM storeline_private.api_sweep_cancelled(p_shop_id, p_platform);
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

-- Request a sync of one platform: an INCREMENTAL for any member, a HISTORICAL_REBUILD for owners
-- and staff, of a platform connected with a working credential, at the requested priority (50:
-- ahead of the scheduler's incrementals, behind first backfills). Idempotent per (shop,
-- platform): a request joins the job already queued and upgrades it when stronger
-- (api_fold_into_queued). Returns (id, job_type, status, already_queued, upgraded); no row when
-- the shop is not the caller's.
CREATE FUNCTION storeline_private.api_request_sync(
    p_shop_id text, p_platform text, p_job_type text
) RETURNS TABLE (id bigint, job_type text, status text, already_queued boolean, upgraded boolean)
    LANGUAGE plpgsql SECURITY DEFINER SET search_path = '' AS $$
#variable_conflict use_column
DECLARE
    v_id bigint;
BEGIN
    IF NOT storeline_private.api_member_of(p_shop_id) THEN
        RETURN;
    END IF;
    IF p_job_type = 'HISTORICAL_REBUILD' THEN
        PERFORM storeline_private.api_require_role(
            ARRAY['AGENCY_OWNER', 'AGENCY_STAFF'], 'request a rebuild');
    ELSIF p_job_type IS DISTINCT FROM 'INCREMENTAL' THEN
        RAISE EXCEPTION 'a sync request is INCREMENTAL or HISTORICAL_REBUILD'
            USING ERRCODE = 'SL422';
    END IF;
    IF NOT EXISTS (SELECT 1 FROM app_dashboard.shop_credentials AS c
                   WHERE c.shop_id = p_shop_id AND c.platform = p_platform AND c.status = 'OK')
    THEN
        RAISE EXCEPTION 'that platform is not connected with a working credential'
            USING ERRCODE = 'SL409';
    END IF;
    PERFORM storeline_private.api_set_reason(NULL);
    FOR attempt IN 1..3 LOOP
        INSERT INTO app_dashboard.sync_jobs AS j
            (shop_id, platform, job_type, priority, requested_by)
        VALUES (p_shop_id, p_platform, p_job_type, 50, (SELECT auth.uid()))
        ON CONFLICT (shop_id, platform) WHERE status = 'QUEUED' DO NOTHING
        RETURNING j.id INTO v_id;
        IF v_id IS NOT NULL THEN
            RETURN QUERY SELECT v_id, p_job_type, 'QUEUED'::text, false, false;
            RETURN;
        END IF;
        RETURN QUERY
        SELECT f.id, f.job_type, 'QUEUED'::text, true, f.upgraded
        FROM storeline_private.api_fold_into_queued(p_shop_id, p_platform, p_job_type) AS f;
        IF FOUND THEN
            RETURN;
        END IF;
    END LOOP;
    RAISE EXCEPTION 'the queue of that platform is changing fast; try again'
        USING ERRCODE = 'SL409';
END
$$;

-- Ask a waiting or running job to stop: owners and staff any job of their shops, a store user
-- only the jobs they requested (never the owner's backfill). Returns (id, status,
-- cancel_requested): no row when the job is not the caller's to see; SL409 when it already ended.
CREATE FUNCTION storeline_private.api_request_cancel(p_job_id bigint, p_shop_id text)
    RETURNS TABLE (id bigint, status text, cancel_requested boolean)
    LANGUAGE plpgsql SECURITY DEFINER SET search_path = '' AS $$
#variable_conflict use_column
DECLARE
    v_job record;
BEGIN
    IF NOT storeline_private.api_member_of(p_shop_id) THEN
        RETURN;
    END IF;
    SELECT j.id, j.status, j.requested_by INTO v_job
    FROM app_dashboard.sync_jobs AS j
    WHERE j.id = p_job_id AND j.shop_id = p_shop_id
    FOR NO KEY UPDATE;
    IF NOT FOUND THEN
        RETURN;
    END IF;
    IF coalesce(storeline_private.user_role(), '') NOT IN ('AGENCY_OWNER', 'AGENCY_STAFF')
       AND v_job.requested_by IS DISTINCT FROM (SELECT auth.uid()) THEN
        RAISE EXCEPTION 'your role may cancel only the jobs you requested'
            USING ERRCODE = 'SL403';
    END IF;
    IF v_job.status NOT IN ('QUEUED', 'IN_PROGRESS') THEN
        RAISE EXCEPTION 'the job already ended (%)', v_job.status USING ERRCODE = 'SL409';
    END IF;
    PERFORM storeline_private.api_set_reason(NULL);
    UPDATE app_dashboard.sync_jobs AS j SET cancel_requested = true WHERE j.id = p_job_id;
    RETURN QUERY SELECT p_job_id, v_job.status::text, true;
END
$$;

-- Every row of a shop in every schema: base tables with a shop_id column (partitions through
-- their parent), then the shop row, whose foreign keys cascade to links, credentials, jobs and
-- cursors. Internal: api_delete_shop and register_proven_shop call it.
CREATE FUNCTION storeline_private.purge_shop(p_shop_id text) RETURNS void
    LANGUAGE plpgsql SECURITY DEFINER SET search_path = '' AS $$
DECLARE
    t regclass;
BEGIN
    FOR t IN
        SELECT c.oid::regclass
        FROM pg_catalog.pg_class AS c
        JOIN pg_catalog.pg_namespace AS n ON n.oid = c.relnamespace
        JOIN pg_catalog.pg_attribute AS a
            ON a.attrelid = c.oid AND a.attname = 'shop_id' AND NOT a.attisdropped
        WHERE c.relkind IN ('r', 'p') AND NOT c.relispartition
          AND n.nspname NOT IN ('pg_catalog', 'information_schema')
          AND c.oid <> 'app_dashboard.shops'::regclass
          AND NOT EXISTS (  -- rows the shop's foreign keys cascade to
              SELECT 1 FROM pg_catalog.pg_constraint AS k
              WHERE k.conrelid = c.oid AND k.contype = 'f'
                AND k.confrelid = 'app_dashboard.shops'::regclass)
        ORDER BY n.nspname, c.relname
    LOOP
        EXECUTE format('DELETE FROM %s WHERE shop_id = $1', t) USING p_shop_id;
    END LOOP;
    DELETE FROM app_dashboard.shops WHERE id = p_shop_id;
END
$$;

-- Delete a shop with all of its data: the owner of the shop's agency only. NULL when the caller
-- does not see the shop (not linked, and not its agency's owner); SL403 for a member who may not.
CREATE FUNCTION storeline_private.api_delete_shop(p_shop_id text) RETURNS boolean
    LANGUAGE plpgsql SECURITY DEFINER SET search_path = '' AS $$
DECLARE
    v_agency uuid;
    v_owner boolean;
BEGIN
    SELECT s.agency_id INTO v_agency FROM app_dashboard.shops AS s WHERE s.id = p_shop_id
    FOR UPDATE;
    v_owner := FOUND AND v_agency = storeline_private.user_agency_id()
               AND storeline_private.user_role() = 'AGENCY_OWNER';
    IF NOT v_owner AND NOT storeline_private.api_member_of(p_shop_id) THEN
        RETURN NULL;
    END IF;
    IF NOT v_owner THEN
        RAISE EXCEPTION 'your role may not delete a shop' USING ERRCODE = 'SL403';
    END IF;
    PERFORM storeline_private.api_set_reason(NULL);
    PERFORM storeline_private.purge_shop(p_shop_id);
    RETURN true;
END
$$;

-- Register a shop its caller proved is theirs. Proof needs an HTTP call Postgres cannot make: the
-- API read `shop { myshopifyDomain }` with the Shopify token sealed here and it named this very
-- shop (storeline/api/shop_proof.py), then calls this on its own connection, not as
-- `authenticated`, which may not execute it: through SQL nobody registers without proof.
-- The shop joins the user's agency (owners only), the user is linked to it, the token becomes
-- its Shopify credential and its backfill is queued. Another agency's registration that was never
-- proven blocks nothing: that shop and its data are purged first. Returns 'created', or
-- 'registered_here' / 'registered_elsewhere' for a proven registration of the user's or another
-- agency (the caller has proven control of the shop, so saying so confirms nothing new).
CREATE FUNCTION storeline_private.register_proven_shop(
    p_user_id uuid, p_shop_id text, p_name text, p_currency text, p_timezone text,
    p_key_id text, p_ciphertext bytea
) RETURNS text LANGUAGE plpgsql SECURITY DEFINER SET search_path = '' AS $$
DECLARE
    v_user record;
    v_existing record;
BEGIN
    SELECT u.role, u.agency_id INTO v_user FROM app_dashboard.users AS u WHERE u.id = p_user_id;
    IF v_user.role IS DISTINCT FROM 'AGENCY_OWNER' OR v_user.agency_id IS NULL THEN
        RAISE EXCEPTION 'your role may not register a shop' USING ERRCODE = 'SL403';
    END IF;
    SELECT s.agency_id, s.verified_at INTO v_existing
    FROM app_dashboard.shops AS s WHERE s.id = p_shop_id FOR UPDATE;
    IF FOUND THEN
        IF v_existing.agency_id = v_user.agency_id THEN
            RETURN 'registered_here';
        ELSIF v_existing.verified_at IS NOT NULL THEN
            RETURN 'registered_elsewhere';
        END IF;
        PERFORM storeline_private.purge_shop(p_shop_id);
    END IF;
    PERFORM storeline_private.api_set_reason(NULL);
    INSERT INTO app_dashboard.shops (id, name, currency, timezone, agency_id, verified_at)
    VALUES (p_shop_id, p_name, p_currency, p_timezone, v_user.agency_id, now());
    INSERT INTO app_dashboard.user_shops (user_id, shop_id, is_default)
    VALUES (p_user_id, p_shop_id,
            NOT EXISTS (SELECT 1 FROM app_dashboard.user_shops AS us
                        WHERE us.user_id = p_user_id));
    INSERT INTO app_dashboard.shop_credentials (shop_id, platform, key_id, ciphertext, metadata)
    VALUES (p_shop_id, 'SHOPIFY', p_key_id, p_ciphertext, '{}'::jsonb);
    INSERT INTO app_dashboard.sync_jobs (shop_id, platform, job_type, priority, requested_by)
    VALUES (p_shop_id, 'SHOPIFY', 'HISTORICAL_INIT', 10, p_user_id);
    RETURN 'created';
END
$$;

REVOKE ALL ON FUNCTION storeline_private.api_require_role(text[], text),
    storeline_private.api_set_reason(text),
    storeline_private.metadata_is_safe(jsonb),
    storeline_private.api_request_sync(text, text, text),
    storeline_private.api_request_cancel(bigint, text),
    storeline_private.purge_shop(text),
    storeline_private.api_delete_shop(text),
    storeline_private.register_proven_shop(uuid, text, text, text, text, text, bytea)
    FROM PUBLIC;
-- api_fold_into_queued is no longer an entry point: only api_request_sync calls it, after its
-- role checks.
GRANT EXECUTE ON FUNCTION
    storeline_private.api_connect_platform(text, text, text, bytea, jsonb),
    storeline_private.api_disconnect_platform(text, text),
    storeline_private.api_request_sync(text, text, text),
    storeline_private.api_request_cancel(bigint, text),
    storeline_private.api_delete_shop(text)
    TO authenticated;
