-- The caller's own profile. RLS shows a user only their own users row, agency and user_shops
-- links, so none of these statements names the user.

-- name: api_me
SELECT u.id, u.email, u.role, u.agency_id, a.name AS agency_name, a.subscription_status,
       (SELECT us.shop_id FROM app_dashboard.user_shops AS us WHERE us.is_default) AS default_shop
FROM app_dashboard.users AS u
LEFT JOIN app_dashboard.agencies AS a ON a.id = u.agency_id

-- name: api_lock_my_links
-- Serializes concurrent default switches of one user: the second waits, then sees the first's.
SELECT shop_id FROM app_dashboard.user_shops ORDER BY shop_id FOR UPDATE

-- name: api_clear_default
-- A separate statement before api_set_default: user_shops_one_default is checked row by row, so
-- one UPDATE that moves the flag could see two defaults at once.
UPDATE app_dashboard.user_shops SET is_default = false WHERE is_default AND shop_id <> $1

-- name: api_set_default
UPDATE app_dashboard.user_shops SET is_default = true WHERE shop_id = $1
RETURNING shop_id
