-- Seeding and resetting for bench/queue_drain.py (the engine's own statements are in jobs.sql).

-- name: seed_agency
INSERT INTO app_dashboard.agencies (id, name)
VALUES ('bbbbbbbb-0000-0000-0000-00000000000b', 'Bench')
ON CONFLICT (id) DO NOTHING

-- name: seed_shops
INSERT INTO app_dashboard.shops (id, name, currency, timezone, agency_id)
SELECT 'bench' || i || '.myshopify.com', 'bench' || i, 'EUR', 'UTC',
       'bbbbbbbb-0000-0000-0000-00000000000b'
FROM generate_series(1, $1::int) AS i
ON CONFLICT (id) DO NOTHING

-- name: seed_jobs
-- One INCREMENTAL per (shop, platform): N jobs over N/4 shops (one QUEUED per key).
INSERT INTO app_dashboard.sync_jobs (shop_id, platform, job_type)
SELECT 'bench' || (1 + (i - 1) / 4) || '.myshopify.com',
       (ARRAY['SHOPIFY', 'META', 'GA4', 'HUBSPOT'])[1 + (i - 1) % 4], 'INCREMENTAL'
FROM generate_series(1, $1::int) AS i

-- name: seed_cursors
-- Every key already synced once: INCREMENTAL jobs are the steady state of a running fleet, and
-- they exist only after a first success. (An empty sync_cursors also misleads the planner: a
-- statement planned while the table is tiny keeps its seq-scan hash join as it grows.)
INSERT INTO app_dashboard.sync_cursors (shop_id, platform, watermark, last_success_at)
SELECT DISTINCT shop_id, platform, '{"updated_at": "2026-01-01T00:00:00Z"}'::jsonb, now()
FROM app_dashboard.sync_jobs

-- name: reset
TRUNCATE app_dashboard.sync_job_events, app_dashboard.sync_cursors, app_dashboard.sync_jobs

-- name: commits
SELECT xact_commit FROM pg_stat_database WHERE datname = current_database()

-- name: server_settings
SELECT name, setting FROM pg_settings
WHERE name IN ('server_version', 'fsync', 'synchronous_commit', 'shared_buffers', 'max_connections')
ORDER BY name
