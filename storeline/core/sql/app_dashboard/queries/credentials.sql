-- name: upsert_credential
-- Saving a credential (re)connects the platform: status back to OK, reason cleared.
INSERT INTO app_dashboard.shop_credentials (shop_id, platform, key_id, ciphertext, metadata)
VALUES ($1, $2, $3, $4, $5)
ON CONFLICT (shop_id, platform) DO UPDATE
SET key_id = EXCLUDED.key_id,
    ciphertext = EXCLUDED.ciphertext,
    metadata = EXCLUDED.metadata,
    status = 'OK',
    status_reason = NULL,
    updated_at = now()
RETURNING id

-- name: get_credential
SELECT key_id, ciphertext, metadata, status
FROM app_dashboard.shop_credentials
WHERE shop_id = $1 AND platform = $2

-- name: mark_needs_reauth
UPDATE app_dashboard.shop_credentials
SET status = 'NEEDS_REAUTH', status_reason = $3, updated_at = now()
WHERE shop_id = $1 AND platform = $2

-- name: delete_credential
DELETE FROM app_dashboard.shop_credentials WHERE shop_id = $1 AND platform = $2
RETURNING id
