-- Row-level security: a user sees exactly the shops linked to them in user_shops, and those shops'
-- rows in every schema. Helpers are SECURITY DEFINER in a non-exposed schema so policies stay
-- simple InitPlans (docs/security.md: wrap in (SELECT …), `TO authenticated`, index policy columns).
CREATE FUNCTION storeline_private.user_shop_ids() RETURNS SETOF text
    LANGUAGE sql STABLE SECURITY DEFINER SET search_path = '' AS $$
    SELECT us.shop_id FROM app_dashboard.user_shops AS us WHERE us.user_id = (SELECT auth.uid())
$$;

CREATE FUNCTION storeline_private.user_agency_id() RETURNS uuid
    LANGUAGE sql STABLE SECURITY DEFINER SET search_path = '' AS $$
    SELECT u.agency_id FROM app_dashboard.users AS u WHERE u.id = (SELECT auth.uid())
$$;

CREATE FUNCTION storeline_private.user_role() RETURNS text
    LANGUAGE sql STABLE SECURITY DEFINER SET search_path = '' AS $$
    SELECT u.role FROM app_dashboard.users AS u WHERE u.id = (SELECT auth.uid())
$$;

CREATE FUNCTION storeline_private.shop_agency_id(p_shop_id text) RETURNS uuid
    LANGUAGE sql STABLE SECURITY DEFINER SET search_path = '' AS $$
    SELECT s.agency_id FROM app_dashboard.shops AS s WHERE s.id = p_shop_id
$$;

REVOKE ALL ON FUNCTION storeline_private.user_shop_ids(), storeline_private.user_agency_id(),
    storeline_private.user_role(), storeline_private.shop_agency_id(text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION storeline_private.user_shop_ids(), storeline_private.user_agency_id(),
    storeline_private.user_role(), storeline_private.shop_agency_id(text) TO authenticated;

-- Every shop-keyed table in core_warehouse/reporting calls this from its own DDL file, so the
-- read rule is written once: members of the shop may SELECT its rows, nothing else.
CREATE FUNCTION storeline_private.enable_shop_rls(p_table regclass) RETURNS void
    LANGUAGE plpgsql AS $$
BEGIN
    EXECUTE format('ALTER TABLE %s ENABLE ROW LEVEL SECURITY', p_table);
    EXECUTE format('GRANT SELECT ON %s TO authenticated', p_table);
    EXECUTE format(
        'CREATE POLICY shop_members_read ON %s FOR SELECT TO authenticated '
        'USING (shop_id = ANY (ARRAY(SELECT storeline_private.user_shop_ids())))', p_table);
END
$$;
REVOKE ALL ON FUNCTION storeline_private.enable_shop_rls(regclass) FROM PUBLIC;

-- agencies: read your own agency; writes go through the service path (billing webhooks).
ALTER TABLE app_dashboard.agencies ENABLE ROW LEVEL SECURITY;
GRANT SELECT ON app_dashboard.agencies TO authenticated;
CREATE POLICY own_agency_read ON app_dashboard.agencies FOR SELECT TO authenticated
    USING (id = (SELECT storeline_private.user_agency_id()));

-- users: read yourself.
ALTER TABLE app_dashboard.users ENABLE ROW LEVEL SECURITY;
GRANT SELECT ON app_dashboard.users TO authenticated;
CREATE POLICY self_read ON app_dashboard.users FOR SELECT TO authenticated
    USING (id = (SELECT auth.uid()));

-- shops: members read and update; an agency owner creates shops in their own agency. A new shop
-- becomes visible once the owner links it in user_shops (same transaction).
ALTER TABLE app_dashboard.shops ENABLE ROW LEVEL SECURITY;
GRANT SELECT, INSERT, UPDATE (name, currency, timezone, updated_at) ON app_dashboard.shops
    TO authenticated;
CREATE POLICY members_read ON app_dashboard.shops FOR SELECT TO authenticated
    USING (id = ANY (ARRAY(SELECT storeline_private.user_shop_ids())));
CREATE POLICY owner_create ON app_dashboard.shops FOR INSERT TO authenticated
    WITH CHECK (agency_id = (SELECT storeline_private.user_agency_id())
                AND (SELECT storeline_private.user_role()) = 'AGENCY_OWNER');
CREATE POLICY members_update ON app_dashboard.shops FOR UPDATE TO authenticated
    USING (id = ANY (ARRAY(SELECT storeline_private.user_shop_ids())))
    WITH CHECK (id = ANY (ARRAY(SELECT storeline_private.user_shop_ids())));

-- user_shops: read and set defaults on your own links; link yourself only to your agency's shops
-- as its owner.
ALTER TABLE app_dashboard.user_shops ENABLE ROW LEVEL SECURITY;
GRANT SELECT, INSERT, UPDATE (is_default) ON app_dashboard.user_shops TO authenticated;
CREATE POLICY own_links_read ON app_dashboard.user_shops FOR SELECT TO authenticated
    USING (user_id = (SELECT auth.uid()));
CREATE POLICY owner_links_self ON app_dashboard.user_shops FOR INSERT TO authenticated
    WITH CHECK (user_id = (SELECT auth.uid())
                AND (SELECT storeline_private.user_role()) = 'AGENCY_OWNER'
                AND storeline_private.shop_agency_id(shop_id)
                    = (SELECT storeline_private.user_agency_id()));
CREATE POLICY own_links_update ON app_dashboard.user_shops FOR UPDATE TO authenticated
    USING (user_id = (SELECT auth.uid())) WITH CHECK (user_id = (SELECT auth.uid()));

-- shop_credentials: RLS on and no grant, so `authenticated` can never read a token.
ALTER TABLE app_dashboard.shop_credentials ENABLE ROW LEVEL SECURITY;

-- sync_jobs: members read their shops' jobs, request syncs and ask to cancel them.
ALTER TABLE app_dashboard.sync_jobs ENABLE ROW LEVEL SECURITY;
GRANT SELECT, INSERT (shop_id, platform, job_type, priority, requested_by),
    UPDATE (cancel_requested) ON app_dashboard.sync_jobs TO authenticated;
CREATE POLICY members_read ON app_dashboard.sync_jobs FOR SELECT TO authenticated
    USING (shop_id = ANY (ARRAY(SELECT storeline_private.user_shop_ids())));
CREATE POLICY members_request ON app_dashboard.sync_jobs FOR INSERT TO authenticated
    WITH CHECK (shop_id = ANY (ARRAY(SELECT storeline_private.user_shop_ids()))
                AND requested_by = (SELECT auth.uid()));
CREATE POLICY members_cancel ON app_dashboard.sync_jobs FOR UPDATE TO authenticated
    USING (shop_id = ANY (ARRAY(SELECT storeline_private.user_shop_ids())))
    WITH CHECK (shop_id = ANY (ARRAY(SELECT storeline_private.user_shop_ids())));

SELECT storeline_private.enable_shop_rls('app_dashboard.sync_job_events');
SELECT storeline_private.enable_shop_rls('app_dashboard.sync_cursors');
