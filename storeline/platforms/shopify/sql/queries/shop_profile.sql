-- The shop's own settings as the platform reports them (storeline/platforms/shopify/shop_profile.py).

-- name: shopify_sync_shop_profile
-- $1 shop id, $2 IANA timezone, $3 currency code. Writes only when something differs, so an
-- unchanged shop costs no row version; a timezone change fires shops_timezone_restamp, which
-- restamps the shop's stored days and rebuilds its rollup in this same transaction. Returns
-- the previous timezone (no row: nothing changed).
UPDATE app_dashboard.shops AS s
SET timezone = $2, currency = $3, updated_at = now()
FROM (SELECT timezone FROM app_dashboard.shops WHERE id = $1 FOR UPDATE) AS old
WHERE s.id = $1 AND (s.timezone IS DISTINCT FROM $2 OR s.currency IS DISTINCT FROM $3)
RETURNING old.timezone AS previous_timezone;
