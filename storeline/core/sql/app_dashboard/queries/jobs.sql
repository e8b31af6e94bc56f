-- The job engine's statements (docs/job-engine.md, D1–D4).
-- Each one is a single statement over row state (status, lease_token, lease_expires_at), so it is
-- correct behind Supabase's transaction pooler. Every write after the claim is fenced by
-- id + lease_token + status: 0 rows means the lease was lost and the caller writes nothing.
-- Transitions are appended to sync_job_events by statement-level triggers
-- (60_job_engine_batching.sql), except claim_jobs and complete_jobs, which write their own
-- (70_job_events_inline.sql).

-- name: enqueue_job
-- Idempotent: at most one QUEUED job per (shop, platform) (the partial unique index
-- sync_jobs_one_queued). A request no stronger than the queued job is a no-op (returns no row);
-- a stronger one upgrades that job and returns its id: the stronger type, the higher priority,
-- a fresh attempt budget and no progress of the weaker type (85_merged_requests.sql).
INSERT INTO app_dashboard.sync_jobs AS j (shop_id, platform, job_type, priority, requested_by)
VALUES ($1, $2, $3, $4, $5)
ON CONFLICT (shop_id, platform) WHERE status = 'QUEUED' DO UPDATE
SET job_type = EXCLUDED.job_type, attempts = 0, progress = '{}'::jsonb,
    priority = least(j.priority, EXCLUDED.priority)
WHERE storeline_private.job_type_upgrades(j.job_type, EXCLUDED.job_type)
RETURNING id

-- name: claim_jobs
-- {limit}: free slots, written in as a literal by claim.py (as a parameter, the generic plan
-- assumes 10% of the queue, so Postgres re-planned the statement on every call).
-- $1 worker_id, $2 lease seconds, $3 platforms this worker can run,
-- $4 synchronous_commit for this transaction ('on' | 'off', see WorkerSettings.async_commit).
-- SKIP LOCKED in a MATERIALIZED CTE: concurrent claimers skip each other's rows instead of
-- queueing on them, and the fence keeps the planner from updating more rows than the LIMIT.
-- NOT EXISTS keeps a key that is already running out (one IN_PROGRESS per (shop, platform)).
-- Returns what running the job needs (shop, cursor, sealed credential) in the same round trip.
WITH commit_mode AS MATERIALIZED (
    -- Transaction-local (pooler-safe); read by Postgres when this statement commits. The second
    -- tells the sync_jobs trigger that `logged` below writes this statement's events.
    SELECT set_config('synchronous_commit', $4::text, true),
           set_config('storeline.events_written', 'on', true)
),
candidates AS MATERIALIZED (
    SELECT j.id
    FROM app_dashboard.sync_jobs AS j
    WHERE j.status = 'QUEUED'
      AND j.run_after <= now()
      AND NOT j.cancel_requested
      AND j.platform = ANY ($3::text[])
      AND NOT EXISTS (
          -- OFFSET 0: a correlated probe of the one-running index per candidate. As an anti
          -- join the planner may read that whole index (and its not yet vacuumed entries) per
          -- claim.
          SELECT 1 FROM app_dashboard.sync_jobs AS r
          WHERE r.shop_id = j.shop_id AND r.platform = j.platform AND r.status = 'IN_PROGRESS'
          OFFSET 0)
    ORDER BY j.priority, j.run_after, j.id
    LIMIT {limit}
    FOR UPDATE SKIP LOCKED
),
claimed AS (
    UPDATE app_dashboard.sync_jobs AS j
    SET status = 'IN_PROGRESS',
        attempts = j.attempts + 1,
        lease_token = gen_random_uuid(),
        lease_expires_at = now() + make_interval(secs => $2),
        worker_id = $1,
        started_at = now(),
        completed_at = NULL
    FROM candidates AS c, commit_mode
    WHERE j.id = c.id AND j.status = 'QUEUED'
    RETURNING j.id, j.shop_id, j.platform, j.job_type, j.priority, j.run_after, j.attempts,
              j.max_attempts, j.lease_token, j.progress
),
logged AS (
    INSERT INTO app_dashboard.sync_job_events
        (job_id, shop_id, platform, from_status, to_status, attempt, worker_id, detail)
    SELECT c.id, c.shop_id, c.platform, 'QUEUED', 'IN_PROGRESS', c.attempts, $1,
           storeline_private.sync_job_event_detail(c.job_type, 'IN_PROGRESS', NULL, c.run_after,
                                                   NULL)
    FROM claimed AS c
    ORDER BY c.id
)
SELECT claimed.id, claimed.shop_id, claimed.platform, claimed.job_type, claimed.attempts,
       claimed.max_attempts, claimed.lease_token, claimed.progress,
       s.currency, s.timezone,
       coalesce(cur.watermark, '{}'::jsonb) AS watermark,
       cred.key_id, cred.ciphertext, cred.metadata, cred.status AS credential_status
FROM claimed
JOIN app_dashboard.shops AS s ON s.id = claimed.shop_id
LEFT JOIN app_dashboard.sync_cursors AS cur
    ON cur.shop_id = claimed.shop_id AND cur.platform = claimed.platform
LEFT JOIN app_dashboard.shop_credentials AS cred
    ON cred.shop_id = claimed.shop_id AND cred.platform = claimed.platform
ORDER BY claimed.priority, claimed.run_after, claimed.id

-- name: heartbeat
-- Extends the lease; also how a running job learns it was asked to cancel (docs/job-engine.md D3).
UPDATE app_dashboard.sync_jobs
SET lease_expires_at = now() + make_interval(secs => $3)
WHERE id = $1 AND lease_token = $2 AND status = 'IN_PROGRESS'
RETURNING cancel_requested

-- name: probe
-- The watchdog's liveness check: the database answers at all.
SELECT 1

-- name: check_job
-- First statement of JobContext.fenced(): is the lease still ours? (no lock: see lock_job)
SELECT cancel_requested
FROM app_dashboard.sync_jobs
WHERE id = $1 AND lease_token = $2 AND status = 'IN_PROGRESS'

-- name: lock_job
-- Last statement of JobContext.fenced(), right before COMMIT: holds the job row until the
-- connector's writes commit, so the reaper cannot take the job away between this check and them.
SELECT cancel_requested
FROM app_dashboard.sync_jobs
WHERE id = $1 AND lease_token = $2 AND status = 'IN_PROGRESS'
FOR NO KEY UPDATE

-- name: save_progress
UPDATE app_dashboard.sync_jobs
SET progress = progress || $3::jsonb
WHERE id = $1 AND lease_token = $2 AND status = 'IN_PROGRESS'
RETURNING id

-- name: add_records
UPDATE app_dashboard.sync_jobs
SET records_synced = records_synced + $3
WHERE id = $1 AND lease_token = $2 AND status = 'IN_PROGRESS'
RETURNING id

-- name: complete_jobs
-- $1 job ids, $2 their lease tokens, $3 their watermarks (null keeps the current one): parallel
-- arrays, one element per job. Marks each job SUCCEEDED and advances its cursor in the same
-- transaction, fenced by its lease token; a row whose lease was lost matches nothing and moves
-- no cursor. Batched: one statement and one commit for many jobs.
-- Only the lease holder of a (shop, platform) writes its cursor, so reading the current
-- watermark here cannot race another writer. $4: synchronous_commit ('on' | 'off').
WITH commit_mode AS MATERIALIZED (
    SELECT set_config('synchronous_commit', $4::text, true),
           set_config('storeline.events_written', 'on', true)  -- `logged` writes the events
),
done AS (
    UPDATE app_dashboard.sync_jobs AS j
    SET status = 'SUCCEEDED', completed_at = now(), lease_token = NULL,
        lease_expires_at = NULL, error = NULL
    FROM unnest($1::bigint[], $2::uuid[], $3::jsonb[]) AS d(id, token, watermark), commit_mode
    WHERE j.id = d.id AND j.lease_token = d.token AND j.status = 'IN_PROGRESS'
    RETURNING j.id, j.shop_id, j.platform, d.watermark, j.attempts, j.worker_id, j.job_type,
              j.run_after
),
logged AS (
    INSERT INTO app_dashboard.sync_job_events
        (job_id, shop_id, platform, from_status, to_status, attempt, worker_id, detail)
    SELECT done.id, done.shop_id, done.platform, 'IN_PROGRESS', 'SUCCEEDED', done.attempts,
           done.worker_id,
           storeline_private.sync_job_event_detail(done.job_type, 'SUCCEEDED', NULL,
                                                   done.run_after, NULL)
    FROM done
    ORDER BY done.id
),
advanced AS (
    INSERT INTO app_dashboard.sync_cursors AS c
        (shop_id, platform, watermark, last_success_at, last_job_id, updated_at)
    SELECT done.shop_id, done.platform,
           coalesce(done.watermark,
                    (SELECT o.watermark FROM app_dashboard.sync_cursors AS o
                     WHERE o.shop_id = done.shop_id AND o.platform = done.platform),
                    '{}'::jsonb),
           now(), done.id, now()
    FROM done
    ON CONFLICT (shop_id, platform) DO UPDATE
    SET watermark = EXCLUDED.watermark, last_success_at = EXCLUDED.last_success_at,
        last_job_id = EXCLUDED.last_job_id, updated_at = EXCLUDED.updated_at
)
SELECT id FROM done

-- name: fail_job
-- $3 error jsonb; $4 NEEDS_REAUTH reason (null: leave the credential alone). Terminal: no retry.
WITH failed AS (
    UPDATE app_dashboard.sync_jobs
    SET status = 'FAILED', completed_at = now(), lease_token = NULL, lease_expires_at = NULL,
        error = $3::jsonb
    WHERE id = $1 AND lease_token = $2 AND status = 'IN_PROGRESS'
    RETURNING shop_id, platform
),
reauth AS (
    UPDATE app_dashboard.shop_credentials AS c
    SET status = 'NEEDS_REAUTH', status_reason = $4::text, updated_at = now()
    FROM failed
    WHERE $4::text IS NOT NULL AND c.shop_id = failed.shop_id AND c.platform = failed.platform
)
SELECT count(*) AS failed FROM failed

-- name: fail_expired_job
-- The reaper's terminal case: the lease expired on the job's last allowed attempt. The expiry
-- predicate sits in the UPDATE itself, so a heartbeat that just renewed the lease wins.
UPDATE app_dashboard.sync_jobs
SET status = 'FAILED', completed_at = now(), lease_token = NULL, lease_expires_at = NULL,
    error = $3::jsonb
WHERE id = $1 AND lease_token = $2 AND status = 'IN_PROGRESS' AND lease_expires_at < now()
RETURNING id

-- name: cancel_job
-- A running job honoured its cancel request: CANCELLED, no cursor move.
UPDATE app_dashboard.sync_jobs
SET status = 'CANCELLED', completed_at = now(), lease_token = NULL, lease_expires_at = NULL,
    error = $3::jsonb
WHERE id = $1 AND lease_token = $2 AND status = 'IN_PROGRESS'
RETURNING id

-- name: absorb_queued_sibling
-- Before a running job goes back to QUEUED, a job queued meanwhile for the same (shop, platform)
-- is folded into it (one QUEUED per key: docs/job-engine.md D1 — a requeue must not collide). Runs in the
-- requeue's transaction, which rolls it back if the requeue finds the lease lost. Returns the
-- type and priority the requeue takes over; none from a job someone asked to cancel, which ends
-- cancelled as the reaper's sweep would end it. The statement sets its own event reason (the
-- requeue's reason, set by requeue_job, is not this job's cause: 85_merged_requests.sql).
WITH sibling AS MATERIALIZED (
    SELECT q.id, q.cancel_requested
    FROM app_dashboard.sync_jobs AS me
    JOIN app_dashboard.sync_jobs AS q ON q.shop_id = me.shop_id AND q.platform = me.platform
    WHERE me.id = $1::bigint AND q.status = 'QUEUED' AND q.id <> me.id
    FOR UPDATE OF q
),
cause AS MATERIALIZED (
    SELECT s.id, set_config('storeline.job_reason',
                            CASE WHEN s.cancel_requested THEN 'cancel requested before it ran'
                                 ELSE 'superseded: merged into job ' || $1::bigint END,
                            true) AS reason
    FROM sibling AS s
)
UPDATE app_dashboard.sync_jobs AS q
SET status = 'CANCELLED', completed_at = now(),
    error = CASE WHEN s.cancel_requested
                 THEN jsonb_build_object('code', 'cancelled', 'message', 'cancelled before it ran',
                                         'task', 'queue', 'retryable', false)
                 ELSE jsonb_build_object('code', 'superseded',
                                         'message', 'merged into job ' || $1::bigint,
                                         'task', 'queue', 'retryable', false) END
FROM sibling AS s
JOIN cause AS c ON c.id = s.id
WHERE q.id = s.id AND q.status = 'QUEUED'
RETURNING CASE WHEN s.cancel_requested THEN NULL ELSE q.job_type END AS job_type,
          CASE WHEN s.cancel_requested THEN NULL ELSE q.priority END AS priority

-- name: requeue_job
-- Back to QUEUED: a retry ($5 = 0: the attempt counts), a shutdown release ($5 = -1: the attempt
-- is restored) or a reaped lease ($7 = true: only if the lease really expired, checked here).
-- $3 delay seconds, $4 error (null keeps the last one), $6 job_type and $8 priority absorbed
-- from a sibling, $9 why (null: the error says it), set here for this statement's event only
-- (absorb_queued_sibling, just before, sets its own). A stronger absorbed type makes it a new
-- job: a fresh attempt budget and no progress of the weaker type (85_merged_requests.sql).
WITH cause AS MATERIALIZED (
    SELECT set_config('storeline.job_reason', coalesce($9::text, ''), true)
)
UPDATE app_dashboard.sync_jobs
SET status = 'QUEUED', lease_token = NULL, lease_expires_at = NULL,
    run_after = now() + make_interval(secs => $3),
    error = coalesce($4::jsonb, error),
    attempts = CASE WHEN storeline_private.job_type_upgrades(job_type, $6::text) THEN 0
                    ELSE greatest(attempts + $5, 0) END,
    progress = CASE WHEN storeline_private.job_type_upgrades(job_type, $6::text) THEN '{}'::jsonb
                    ELSE progress END,
    job_type = CASE WHEN storeline_private.job_type_upgrades(job_type, $6::text) THEN $6::text
                    ELSE job_type END,
    priority = least(priority, coalesce($8::smallint, priority))
FROM cause
WHERE id = $1 AND lease_token = $2 AND status = 'IN_PROGRESS'
  AND (NOT $7::boolean OR lease_expires_at < now())
RETURNING id

-- name: set_job_reason
-- Why the next transition happens, for its sync_job_events row; transaction-local.
SELECT set_config('storeline.job_reason', $1, true)

-- name: expired_leases
-- Reaper candidates; the UPDATEs that follow re-check expiry themselves (River #1302).
SELECT id, lease_token, attempts, max_attempts, worker_id
FROM app_dashboard.sync_jobs
WHERE status = 'IN_PROGRESS' AND lease_expires_at < now()
ORDER BY lease_expires_at
LIMIT $1

-- name: cancel_queued_requested
-- A job asked to cancel before any worker took it never runs.
UPDATE app_dashboard.sync_jobs
SET status = 'CANCELLED', completed_at = now(),
    error = jsonb_build_object('code', 'cancelled', 'message', 'cancelled before it ran',
                               'task', 'queue', 'retryable', false)
WHERE status = 'QUEUED' AND cancel_requested
RETURNING id

-- name: request_cancel
-- A queued job is cancelled at once; a running one is flagged and stops at its next check.
UPDATE app_dashboard.sync_jobs
SET cancel_requested = true,
    status = CASE WHEN status = 'QUEUED' THEN 'CANCELLED' ELSE status END,
    completed_at = CASE WHEN status = 'QUEUED' THEN now() ELSE completed_at END,
    error = CASE WHEN status = 'QUEUED'
                 THEN jsonb_build_object('code', 'cancelled', 'message', 'cancelled before it ran',
                                         'task', 'queue', 'retryable', false)
                 ELSE error END
WHERE id = $1 AND status IN ('QUEUED', 'IN_PROGRESS')
RETURNING status

-- name: schedule_stale
-- Enqueue a sync for every connected (shop, platform) whose last success is older than $1
-- seconds: INCREMENTAL, or HISTORICAL_INIT if it never succeeded. Skips NEEDS_REAUTH
-- credentials, agencies whose subscription is not active/trialing, keys with a job queued or
-- running, and keys whose last job FAILED less than $2 seconds ago (no retry storm on a
-- terminal error). Idempotent and safe on every replica: ON CONFLICT against the one-QUEUED index.
-- The due set is found first: the synced pairs by a range scan of sync_cursors_last_success (a
-- tick's share, not every pair: walking all 10,000 pairs' cursors was most of a tick,
-- bench/fleet.py), the never-synced ones by one hash anti join; only those are joined further.
WITH due AS (
    SELECT cur.shop_id, cur.platform, false AS first
    FROM app_dashboard.sync_cursors AS cur
    WHERE cur.last_success_at < now() - make_interval(secs => $1)
    UNION ALL
    SELECT c.shop_id, c.platform, true
    FROM app_dashboard.shop_credentials AS c
    LEFT JOIN app_dashboard.sync_cursors AS cur
        ON cur.shop_id = c.shop_id AND cur.platform = c.platform
    WHERE cur.last_success_at IS NULL
)
INSERT INTO app_dashboard.sync_jobs (shop_id, platform, job_type, priority)
SELECT c.shop_id, c.platform,
       CASE WHEN d.first THEN 'HISTORICAL_INIT' ELSE 'INCREMENTAL' END,
       CASE WHEN d.first THEN 10 ELSE 100 END
FROM due AS d
JOIN app_dashboard.shop_credentials AS c ON c.shop_id = d.shop_id AND c.platform = d.platform
JOIN app_dashboard.shops AS s ON s.id = c.shop_id
JOIN app_dashboard.agencies AS a ON a.id = s.agency_id
WHERE c.status = 'OK'
  AND a.subscription_status IN ('active', 'trialing')
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

-- name: job_events
SELECT id, job_id, at, from_status, to_status, attempt, worker_id, detail
FROM app_dashboard.sync_job_events
WHERE job_id = $1
ORDER BY id

-- name: prune_job_events
-- Age-based pruning in bounded batches so one tick never holds long locks.
DELETE FROM app_dashboard.sync_job_events
WHERE id IN (SELECT id FROM app_dashboard.sync_job_events
             WHERE at < now() - make_interval(days => $1)
             ORDER BY at LIMIT 5000)

-- name: prune_staging
-- Staging lines past their platform's retention (98_staging_retention.sql); returns how many.
SELECT storeline_private.prune_staging()

-- name: stage_batch
-- A staging batch's bookkeeping, in the batch's own fenced transaction (storeline/worker/kit/staging.py):
-- the resume point that covers the rows ($3, merged into progress) and the rows' count ($4)
-- commit together with the rows, or not at all.
UPDATE app_dashboard.sync_jobs
SET progress = progress || $3::jsonb, records_synced = records_synced + $4
WHERE id = $1 AND lease_token = $2 AND status = 'IN_PROGRESS'
RETURNING id

-- name: job_backends
-- The heartbeat's liveness probe: which of the running jobs' backends ($1 pids) still exist, and
-- which are working (running a statement, not waiting for the client). A held connection whose
-- backend is gone was terminated: its job is stopped and retried.
SELECT pid, state = 'active' AND wait_event_type IS DISTINCT FROM 'Client' AS busy
FROM pg_stat_activity
WHERE pid = ANY($1::int[])

-- name: enqueue_follow_ups
-- After job $1 succeeded having changed data (records_synced > 0): a job of each platform in $2
-- (export targets, storeline/worker/settings.py `exports`) for its shop, unless that job was
-- one of them. Idempotent like enqueue_job (one QUEUED per key); below syncs in priority.
INSERT INTO app_dashboard.sync_jobs (shop_id, platform, job_type, priority)
SELECT j.shop_id, p.platform, 'INCREMENTAL', 200
FROM app_dashboard.sync_jobs AS j
CROSS JOIN unnest($2::text[]) AS p (platform)
WHERE j.id = $1 AND j.status = 'SUCCEEDED' AND j.records_synced > 0
  AND j.platform <> ALL ($2::text[])
ON CONFLICT (shop_id, platform) WHERE status = 'QUEUED' DO NOTHING
RETURNING id

-- name: export_shops
-- `storeline export …`: every shop, or the one named ($1).
SELECT s.id FROM app_dashboard.shops AS s
WHERE $1::text IS NULL OR s.id = $1
ORDER BY s.id
