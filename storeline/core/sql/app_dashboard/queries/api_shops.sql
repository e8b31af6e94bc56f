-- The API's shop statements. They run as `authenticated` inside storeline.rls.as_user: RLS on
-- shops and user_shops decides which rows exist for the caller, so none filters by user.

-- name: list_shops
SELECT s.id, s.name, s.currency::text AS currency, s.timezone, s.agency_id, s.created_at,
       coalesce(us.is_default, false) AS is_default
FROM app_dashboard.shops AS s
LEFT JOIN app_dashboard.user_shops AS us ON us.shop_id = s.id
ORDER BY s.name, s.id

-- name: get_shop
SELECT s.id, s.name, s.currency::text AS currency, s.timezone, s.agency_id, s.created_at,
       coalesce(us.is_default, false) AS is_default
FROM app_dashboard.shops AS s
LEFT JOIN app_dashboard.user_shops AS us ON us.shop_id = s.id
WHERE s.id = $1

-- name: shop_platforms
-- Each connected platform's state (reporting.sync_status filters by the caller's shops itself).
SELECT platform, credential_status, status_reason, account, connected_at, last_success_at,
       stale_minutes, job_id, job_type, job_status, attempts, records_synced, progress, error,
       job_created_at, started_at, completed_at
FROM reporting.sync_status
WHERE shop_id = $1
ORDER BY platform

-- name: register_proven_shop
-- Not as `authenticated`: on the API's own connection, after the Shopify proof
-- (storeline/api/shop_proof.py). 'created' | 'registered_here' | 'registered_elsewhere'.
SELECT storeline_private.register_proven_shop($1, $2, $3, $4, $5, $6, $7)

-- name: rename_shop
-- RLS (managers_rename) lets owners and staff rename their linked shops; no row otherwise.
UPDATE app_dashboard.shops SET name = $2, updated_at = now()
WHERE id = $1
RETURNING id

-- name: delete_shop
-- NULL: the caller does not see the shop; SL403: they may not delete it.
SELECT storeline_private.api_delete_shop($1)
