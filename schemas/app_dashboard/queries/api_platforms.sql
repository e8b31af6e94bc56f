-- The API's platform connection statements. Credentials are written only through the
-- SECURITY DEFINER functions of 80_api_writes.sql (`authenticated` has no privilege on
-- shop_credentials); the sealed token arrives here already encrypted.

-- name: api_connect_platform
-- The queued HISTORICAL_INIT's id; NULL when the shop is not the caller's; 42501 for a role
-- that may not manage connections.
SELECT storeline_private.api_connect_platform($1, $2, $3, $4, $5) AS job_id

-- name: api_disconnect_platform
-- NULL: shop not the caller's; false: the platform was not connected.
SELECT storeline_private.api_disconnect_platform($1, $2) AS disconnected

-- name: api_platform_status
-- One platform's state, as shop_platforms reads it (reporting.sync_status filters by the caller).
SELECT platform, credential_status, status_reason, account, connected_at, last_success_at,
       stale_minutes, job_id, job_type, job_status, attempts, records_synced, progress, error,
       job_created_at, started_at, completed_at
FROM reporting.sync_status
WHERE shop_id = $1 AND platform = $2
