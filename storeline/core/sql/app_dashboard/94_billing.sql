-- Stripe billing (revision 0020; docs/operations.md "Billing"). The webhook
-- (storeline/api/routes/billing.py) is the only writer of an agency's subscription; it runs on the
-- API's own connection (no user), after verifying Stripe's signature.

-- The Stripe `created` time of the event that last set subscription_status: an event older than
-- it changes nothing, so events arriving out of order never regress the status.
ALTER TABLE app_dashboard.agencies ADD COLUMN subscription_status_at timestamptz;

-- Every webhook event handled, keyed by Stripe's event id: a redelivered event is a no-op.
CREATE TABLE app_dashboard.billing_events (
    id          text PRIMARY KEY,
    type        text NOT NULL,
    created_at  timestamptz NOT NULL,  -- the event's `created` (Stripe's clock)
    agency_id   uuid REFERENCES app_dashboard.agencies (id) ON DELETE SET NULL,
    -- applied: the agency's billing changed; stale: older than what the agency already has;
    -- unmatched: no agency knows this customer/subscription; ignored: a type we do not act on.
    outcome     text NOT NULL CHECK (outcome IN ('applied', 'stale', 'unmatched', 'ignored')),
    received_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX billing_events_agency_idx ON app_dashboard.billing_events (agency_id, created_at);
-- RLS on and no grant: billing events are never readable by users.
ALTER TABLE app_dashboard.billing_events ENABLE ROW LEVEL SECURITY;

-- Statuses under which an agency's shops sync (scheduler, manual requests). Everything else
-- (past_due, unpaid, canceled, incomplete, incomplete_expired, paused) keeps read access only.
CREATE FUNCTION storeline_private.billing_active(p_status text) RETURNS boolean
    LANGUAGE sql IMMUTABLE SET search_path = '' AS $$
    SELECT p_status IN ('active', 'trialing')
$$;

-- Whether the caller may request a sync of this shop as far as billing goes: NULL when the shop
-- is not theirs (the API then answers 404 as for any unknown shop), else the agency's verdict.
CREATE FUNCTION storeline_private.api_shop_billing(p_shop_id text)
    RETURNS TABLE (active boolean, subscription_status text)
    LANGUAGE sql STABLE SECURITY DEFINER SET search_path = '' AS $$
    SELECT storeline_private.billing_active(a.subscription_status), a.subscription_status
    FROM app_dashboard.shops AS s
    JOIN app_dashboard.agencies AS a ON a.id = s.agency_id
    WHERE s.id = p_shop_id AND storeline_private.api_member_of(p_shop_id)
$$;

-- Postgres refuses a user's sync request for an inactive agency even if the API did not ask
-- first (the API's guard answers 402 before it gets here).
CREATE POLICY billing_active_request ON app_dashboard.sync_jobs AS RESTRICTIVE FOR INSERT
    TO authenticated
    WITH CHECK (coalesce((SELECT b.active FROM storeline_private.api_shop_billing(shop_id) AS b),
                         false));

REVOKE ALL ON FUNCTION storeline_private.billing_active(text),
    storeline_private.api_shop_billing(text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION storeline_private.billing_active(text),
    storeline_private.api_shop_billing(text) TO authenticated;
