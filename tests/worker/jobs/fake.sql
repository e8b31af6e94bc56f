-- The fake connector's "warehouse": one row per chunk a job loaded. No unique key on purpose, so
-- two runs of one (shop, platform) writing at once would show up as duplicate rows.

-- name: create_fake_rows
CREATE TABLE IF NOT EXISTS public.fake_rows (
    shop_id  text NOT NULL,
    platform text NOT NULL,
    chunk    integer NOT NULL,
    job_id   bigint NOT NULL,
    attempt  integer NOT NULL,
    worker   text
)

-- name: replace_chunk
-- Connector-style idempotent load: replace this chunk's rows for the (shop, platform).
WITH gone AS (
    DELETE FROM public.fake_rows WHERE shop_id = $1 AND platform = $2 AND chunk = $3
)
INSERT INTO public.fake_rows (shop_id, platform, chunk, job_id, attempt)
VALUES ($1, $2, $3, $4, $5)

-- name: job_runs
-- How many times the job was claimed (this run included).
SELECT count(*) FROM app_dashboard.sync_job_events WHERE job_id = $1 AND to_status = 'IN_PROGRESS'
