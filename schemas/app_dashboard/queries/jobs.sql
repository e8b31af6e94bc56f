-- name: enqueue_job
-- Idempotent: at most one QUEUED job per (shop, platform) — a second enqueue is a no-op
-- (returns no row) thanks to the partial unique index sync_jobs_one_queued.
INSERT INTO app_dashboard.sync_jobs (shop_id, platform, job_type, priority, requested_by)
VALUES ($1, $2, $3, $4, $5)
ON CONFLICT (shop_id, platform) WHERE status = 'QUEUED' DO NOTHING
RETURNING id
