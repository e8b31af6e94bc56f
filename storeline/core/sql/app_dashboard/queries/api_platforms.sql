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
