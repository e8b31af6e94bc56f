-- The API's sync statements. They run as `authenticated` inside storeline.rls.as_user: the
-- sync_jobs policies let members read their shops' jobs, request jobs as themselves and set
-- cancel_requested; nothing here filters by user.

-- name: api_connected_platforms
SELECT platform, credential_status
FROM reporting.sync_status
WHERE shop_id = $1
ORDER BY platform

-- name: api_request_job
-- Idempotent: no row when a job for (shop, platform) is already QUEUED (sync_jobs_one_queued);
-- the caller then folds the request into that job (api_fold_into_queued).
INSERT INTO app_dashboard.sync_jobs (shop_id, platform, job_type, priority, requested_by)
VALUES ($1, $2, $3, $4, (SELECT auth.uid()))
ON CONFLICT (shop_id, platform) WHERE status = 'QUEUED' DO NOTHING
RETURNING id, job_type, status

-- name: api_fold_into_queued
-- The queued job this request joins (upgraded if the request is stronger); no row: insert again.
SELECT id, job_type, upgraded
FROM storeline_private.api_fold_into_queued($1, $2, $3)

-- name: api_recent_jobs
SELECT id, platform, job_type, status, attempts, records_synced, error, cancel_requested,
       created_at, started_at, completed_at
FROM app_dashboard.sync_jobs
WHERE shop_id = $1
ORDER BY created_at DESC, id DESC
LIMIT $2

-- name: api_request_cancel
-- The worker stops a running job at its next check; a queued one is never claimed and the
-- reaper finishes it as CANCELLED.
UPDATE app_dashboard.sync_jobs
SET cancel_requested = true
WHERE id = $1 AND shop_id = $2 AND status IN ('QUEUED', 'IN_PROGRESS')
RETURNING id, status, cancel_requested

-- name: api_job_status
SELECT status FROM app_dashboard.sync_jobs WHERE id = $1 AND shop_id = $2
