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

-- name: create_shop
-- The shop belongs to the caller's agency; RLS refuses callers who are not its owner. No
-- RETURNING: the new row is not readable until link_shop links it (its SELECT policy).
INSERT INTO app_dashboard.shops (id, name, currency, timezone, agency_id)
VALUES ($1, $2, $3, $4, (SELECT storeline_private.user_agency_id()))

-- name: link_shop
-- Makes the new shop visible to its creator; the first shop becomes the default.
INSERT INTO app_dashboard.user_shops (user_id, shop_id, is_default)
VALUES ((SELECT auth.uid()), $1,
        NOT EXISTS (SELECT 1 FROM app_dashboard.user_shops WHERE user_id = (SELECT auth.uid())))
