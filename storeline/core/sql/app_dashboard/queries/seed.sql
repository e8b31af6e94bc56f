-- name: upsert_agency
INSERT INTO app_dashboard.agencies (id, name) VALUES ($1, $2)
ON CONFLICT (id) DO UPDATE SET name = EXCLUDED.name, updated_at = now()

-- name: upsert_user
INSERT INTO app_dashboard.users (id, email, role, agency_id) VALUES ($1, $2, $3, $4)
ON CONFLICT (id) DO UPDATE
SET email = EXCLUDED.email, role = EXCLUDED.role, agency_id = EXCLUDED.agency_id

-- name: upsert_shop
INSERT INTO app_dashboard.shops (id, name, currency, timezone, agency_id)
VALUES ($1, $2, $3, $4, $5)
ON CONFLICT (id) DO UPDATE
SET name = EXCLUDED.name, currency = EXCLUDED.currency, timezone = EXCLUDED.timezone,
    agency_id = EXCLUDED.agency_id, updated_at = now()

-- name: link_user_shop
-- A user's first shop becomes their default.
INSERT INTO app_dashboard.user_shops (user_id, shop_id, is_default)
VALUES ($1, $2, NOT EXISTS (SELECT 1 FROM app_dashboard.user_shops WHERE user_id = $1))
ON CONFLICT (user_id, shop_id) DO NOTHING
