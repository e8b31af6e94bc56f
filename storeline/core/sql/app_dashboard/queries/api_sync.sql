-- The API's sync statements. They run as `authenticated` inside storeline.rls.as_user: the
-- sync_jobs policy lets members read their shops' jobs; requests and cancels go through the
-- SECURITY DEFINER functions of 95_role_matrix.sql. Nothing here filters by user.

-- name: api_connected_platforms
SELECT platform, credential_status
FROM reporting.sync_status
WHERE shop_id = $1
ORDER BY platform

-- name: api_request_sync
-- The job this request queued or joined (95_role_matrix.sql: the role matrix, the connected
-- platform and the priority are checked there); no row when the shop is not the caller's.
SELECT id, job_type, status, already_queued, upgraded
FROM storeline_private.api_request_sync($1, $2, $3)

-- name: api_recent_jobs
SELECT id, platform, job_type, status, attempts, records_synced, error, cancel_requested,
       created_at, started_at, completed_at
FROM app_dashboard.sync_jobs
WHERE shop_id = $1
ORDER BY created_at DESC, id DESC
LIMIT $2

-- name: api_request_cancel
-- The worker stops a running job at its next check; a queued one is never claimed and the
-- reaper finishes it as CANCELLED. No row: not the caller's job; SL403/SL409 from the function.
SELECT id, status, cancel_requested FROM storeline_private.api_request_cancel($1, $2)
