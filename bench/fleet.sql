-- Seeding, resetting and measuring for bench/fleet.py (the engine's own statements are in
-- storeline/core/sql/app_dashboard/queries/jobs.sql).

-- name: seed_agency
INSERT INTO app_dashboard.agencies (id, name)
VALUES ('f1ee7000-0000-0000-0000-000000000000', 'Fleet')
ON CONFLICT (id) DO NOTHING

-- name: seed_shops
INSERT INTO app_dashboard.shops (id, name, currency, timezone, agency_id)
SELECT 'fleet' || i || '.myshopify.com', 'fleet' || i, 'EUR', 'UTC',
       'f1ee7000-0000-0000-0000-000000000000'
FROM generate_series(1, $1::int) AS i
ON CONFLICT (id) DO NOTHING

-- name: reset
TRUNCATE app_dashboard.sync_job_events, app_dashboard.sync_jobs

-- name: activate
-- The first $1 shops are connected; the others' credentials need re-authorization (skipped).
UPDATE app_dashboard.shop_credentials
SET status = CASE WHEN split_part(shop_id, '.', 1) IN (
                 SELECT 'fleet' || i FROM generate_series(1, $1::int) AS i)
             THEN 'OK' ELSE 'NEEDS_REAUTH' END

-- name: spread_cursors
-- Every pair synced once, its last success uniformly spread over the last $1 seconds.
INSERT INTO app_dashboard.sync_cursors (shop_id, platform, watermark, last_success_at)
SELECT shop_id, platform, '{}'::jsonb, now() - random() * make_interval(secs => $1)
FROM app_dashboard.shop_credentials
ON CONFLICT (shop_id, platform) DO UPDATE SET last_success_at = EXCLUDED.last_success_at

-- name: enqueue_one
INSERT INTO app_dashboard.sync_jobs (shop_id, platform, job_type, priority)
VALUES ($1, 'SHOPIFY', 'INCREMENTAL', 50)

-- name: waiting
SELECT count(*) FROM app_dashboard.sync_jobs WHERE status IN ('QUEUED', 'IN_PROGRESS')

-- name: claim_waits
-- Enqueue (or due time) to first claim, of jobs that ran once.
SELECT extract(epoch FROM started_at - greatest(created_at, run_after)) AS wait
FROM app_dashboard.sync_jobs
WHERE started_at IS NOT NULL AND attempts = 1

-- name: succeeded
SELECT count(*) FROM app_dashboard.sync_jobs WHERE status = 'SUCCEEDED'

-- name: staleness
-- Seconds since the last success of every connected pair, now.
SELECT coalesce(array_agg(extract(epoch FROM now() - cur.last_success_at)::float8), '{}')
FROM app_dashboard.shop_credentials AS c
JOIN app_dashboard.sync_cursors AS cur ON cur.shop_id = c.shop_id AND cur.platform = c.platform
WHERE c.status = 'OK'

-- name: seed_history
-- $1 finished jobs per connected pair, as a fleet that has run for a while has: the scheduler's
-- probes of sync_jobs then meet a table of realistic size (and its statistics), not an empty one.
INSERT INTO app_dashboard.sync_jobs
    (shop_id, platform, job_type, status, attempts, started_at, completed_at, records_synced)
SELECT c.shop_id, c.platform, 'INCREMENTAL', 'SUCCEEDED', 1,
       now() - make_interval(mins => 15 * g), now() - make_interval(mins => 15 * g), 0
FROM app_dashboard.shop_credentials AS c, generate_series(1, $1::int) AS g
WHERE c.status = 'OK'

-- name: schedule_stale_before
-- The scheduler statement before revision 0020 (walks every pair's cursor), the baseline the
-- tick phase compares with in the same run.
-- Enqueue a sync for every connected (shop, platform) whose last success is older than $1
-- seconds: INCREMENTAL, or HISTORICAL_INIT if it never succeeded. Skips NEEDS_REAUTH
-- credentials, agencies whose subscription is not active/trialing, keys with a job queued or
-- running, and keys whose last job FAILED less than $2 seconds ago (no retry storm on a
-- terminal error). Idempotent and safe on every replica: ON CONFLICT against the one-QUEUED index.
INSERT INTO app_dashboard.sync_jobs (shop_id, platform, job_type, priority)
SELECT c.shop_id, c.platform,
       CASE WHEN cur.last_success_at IS NULL THEN 'HISTORICAL_INIT' ELSE 'INCREMENTAL' END,
       CASE WHEN cur.last_success_at IS NULL THEN 10 ELSE 100 END
FROM app_dashboard.shop_credentials AS c
JOIN app_dashboard.shops AS s ON s.id = c.shop_id
JOIN app_dashboard.agencies AS a ON a.id = s.agency_id
LEFT JOIN app_dashboard.sync_cursors AS cur
    ON cur.shop_id = c.shop_id AND cur.platform = c.platform
WHERE c.status = 'OK'
  AND a.subscription_status IN ('active', 'trialing')
  AND (cur.last_success_at IS NULL OR cur.last_success_at < now() - make_interval(secs => $1))
  AND NOT EXISTS (SELECT 1 FROM app_dashboard.sync_jobs AS q
                  WHERE q.shop_id = c.shop_id AND q.platform = c.platform
                    AND q.status = 'QUEUED')
  AND NOT EXISTS (SELECT 1 FROM app_dashboard.sync_jobs AS r
                  WHERE r.shop_id = c.shop_id AND r.platform = c.platform
                    AND r.status = 'IN_PROGRESS')
  AND NOT EXISTS (SELECT 1 FROM app_dashboard.sync_jobs AS f
                  WHERE f.shop_id = c.shop_id AND f.platform = c.platform
                    AND f.status = 'FAILED' AND f.completed_at > now() - make_interval(secs => $2))
ON CONFLICT (shop_id, platform) WHERE status = 'QUEUED' DO NOTHING
RETURNING id, shop_id, platform, job_type
