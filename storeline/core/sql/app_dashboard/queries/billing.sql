-- Stripe billing: the caller's billing account (under RLS) and the webhook's writes (on the API's
-- own connection, after the signature is verified; storeline/api/billing/webhook.py).

-- name: api_billing_account
-- The caller's agency as RLS shows it (own agency only), with the caller's role and email.
SELECT u.role, u.email, a.id AS agency_id, a.name AS agency_name, a.stripe_customer_id,
       a.stripe_subscription_id, a.subscription_status,
       storeline_private.billing_active(a.subscription_status) AS active,
       a.subscription_status_at
FROM app_dashboard.users AS u
JOIN app_dashboard.agencies AS a ON a.id = u.agency_id

-- name: api_shop_billing
SELECT active, subscription_status FROM storeline_private.api_shop_billing($1)

-- name: billing_record_event
-- First delivery only: a replay (same event id) returns no row and changes nothing.
INSERT INTO app_dashboard.billing_events (id, type, created_at, outcome)
VALUES ($1, $2, $3, 'ignored')
ON CONFLICT (id) DO NOTHING
RETURNING id

-- name: billing_event_outcome
UPDATE app_dashboard.billing_events SET outcome = $2, agency_id = $3 WHERE id = $1

-- name: billing_find_agency
-- The agency an event is about: by the id we put in the session/subscription metadata, else by
-- Stripe's subscription id, else by its customer id. Locked: one event at a time per agency.
SELECT id, stripe_customer_id, stripe_subscription_id, subscription_status,
       subscription_status_at
FROM app_dashboard.agencies
WHERE id = $1 OR stripe_subscription_id = $2 OR stripe_customer_id = $3
ORDER BY id = $1 DESC NULLS LAST, stripe_subscription_id = $2 DESC NULLS LAST
LIMIT 1
FOR UPDATE

-- name: billing_set_subscription
-- $1 agency, $2 customer, $3 subscription, $4 status, $5 the event's created time. The caller
-- decided the event is not older than what the agency has (storeline/api/billing/webhook.py).
UPDATE app_dashboard.agencies
SET stripe_customer_id = coalesce($2, stripe_customer_id),
    stripe_subscription_id = coalesce($3, stripe_subscription_id),
    subscription_status = $4, subscription_status_at = $5, updated_at = now()
WHERE id = $1

-- name: billing_link_customer
-- Checkout completed before we knew the customer: remember it, status untouched.
UPDATE app_dashboard.agencies
SET stripe_customer_id = coalesce(stripe_customer_id, $2), updated_at = now()
WHERE id = $1
