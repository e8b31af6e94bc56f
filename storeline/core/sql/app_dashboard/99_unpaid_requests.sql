-- A user's sync request for a shop whose agency is not paying is refused by Postgres whatever
-- path it takes (the API's guard answers 402 first; storeline_private.api_request_sync is a
-- SECURITY DEFINER function, which row-level security does not see, so the rule is a trigger).
-- Jobs nobody requested (the scheduler skips unpaid agencies itself) and a connection's first
-- backfill (HISTORICAL_INIT: data the agency already asked for) are not refused.
CREATE FUNCTION storeline_private.refuse_unpaid_request() RETURNS trigger
    LANGUAGE plpgsql SET search_path = '' AS $$
DECLARE
    v_status text;
BEGIN
    IF NEW.requested_by IS NULL OR NEW.job_type = 'HISTORICAL_INIT' THEN
        RETURN NEW;
    END IF;
    SELECT a.subscription_status INTO v_status
    FROM app_dashboard.shops AS s
    JOIN app_dashboard.agencies AS a ON a.id = s.agency_id
    WHERE s.id = NEW.shop_id;
    IF v_status IS NOT NULL AND NOT storeline_private.billing_active(v_status) THEN
        RAISE EXCEPTION 'the agency''s subscription is %: syncs are paused until it is active',
            v_status USING ERRCODE = 'SL402';
    END IF;
    RETURN NEW;
END
$$;
REVOKE ALL ON FUNCTION storeline_private.refuse_unpaid_request() FROM PUBLIC;

CREATE TRIGGER refuse_unpaid_request BEFORE INSERT ON app_dashboard.sync_jobs
    FOR EACH ROW EXECUTE FUNCTION storeline_private.refuse_unpaid_request();
