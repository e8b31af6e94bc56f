-- Staging retention (docs/operations.md): raw lines are kept for re-runs, audits and (Meta)
-- restatement history, then deleted; the warehouse keeps every object's latest raw JSON, so
-- nothing the product reads is lost. Each platform registers its staging tables here with how
-- long to keep them (its sql/ folder: a `staging_retention` insert); the worker's reaper calls
-- prune_staging() about once an hour. Operators change a row to keep more or less.
CREATE TABLE storeline_private.staging_tables (
    table_name regclass PRIMARY KEY,
    platform   app_dashboard.platform NOT NULL,
    keep_days  integer NOT NULL CHECK (keep_days >= 1),
    -- each shop's newest successful jobs whose lines are kept whatever their age
    keep_jobs  integer NOT NULL DEFAULT 3 CHECK (keep_jobs >= 0)
);
REVOKE ALL ON storeline_private.staging_tables FROM PUBLIC;

-- Delete the lines of finished jobs completed more than keep_days ago (and of jobs sync_jobs no
-- longer knows), except each shop's last keep_jobs successful jobs, in every registered table.
-- The job ids present are found by skipping through the primary key (one probe per job, not a
-- scan of the rows). Returns the lines deleted.
CREATE FUNCTION storeline_private.prune_staging() RETURNS bigint
LANGUAGE plpgsql AS $$
DECLARE
    t storeline_private.staging_tables;
    deleted bigint;
    total bigint := 0;
BEGIN
    FOR t IN SELECT * FROM storeline_private.staging_tables ORDER BY table_name::text LOOP
        EXECUTE format($q$
            WITH RECURSIVE present AS (
                SELECT min(sync_job_id) AS id FROM %1$s
                UNION ALL
                SELECT (SELECT min(s.sync_job_id) FROM %1$s AS s WHERE s.sync_job_id > present.id)
                FROM present WHERE present.id IS NOT NULL
            ),
            kept AS (
                SELECT id FROM (
                    SELECT j.id, row_number() OVER (PARTITION BY j.shop_id ORDER BY j.id DESC) AS n
                    FROM app_dashboard.sync_jobs AS j
                    WHERE j.platform = $1 AND j.status = 'SUCCEEDED'
                ) AS ranked
                WHERE n <= $2
            ),
            doomed AS (
                SELECT p.id
                FROM present AS p
                LEFT JOIN app_dashboard.sync_jobs AS j ON j.id = p.id
                WHERE p.id IS NOT NULL AND p.id NOT IN (SELECT id FROM kept)
                  AND (j.id IS NULL
                       OR (j.status IN ('SUCCEEDED', 'FAILED', 'CANCELLED')
                           AND j.completed_at < now() - make_interval(days => $3)))
            )
            DELETE FROM %1$s AS s USING doomed WHERE s.sync_job_id = doomed.id
        $q$, t.table_name) USING t.platform::text, t.keep_jobs, t.keep_days;
        GET DIAGNOSTICS deleted = ROW_COUNT;
        total := total + deleted;
    END LOOP;
    RETURN total;
END
$$;
REVOKE ALL ON FUNCTION storeline_private.prune_staging() FROM PUBLIC;
