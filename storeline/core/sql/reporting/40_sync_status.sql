-- What the dashboard shows about each connected platform of a shop (docs/architecture.md): connection
-- state, the last success, the latest job and how stale the data is.
--
-- shop_credentials holds sealed tokens and `authenticated` has no privilege on it, so this view
-- runs with its owner's rights (not security_invoker) and filters rows itself by the caller's
-- shops. security_barrier keeps a caller's own predicates (leaky functions) from being pushed
-- below that filter. It exposes no key or ciphertext column.
CREATE VIEW reporting.sync_status WITH (security_barrier = true) AS
SELECT c.shop_id,
       c.platform,
       c.status AS credential_status,
       c.status_reason,
       c.metadata AS account,
       c.created_at AS connected_at,
       cur.last_success_at,
       floor(extract(epoch FROM now() - cur.last_success_at) / 60)::integer AS stale_minutes,
       j.id AS job_id,
       j.job_type,
       j.status AS job_status,
       j.attempts,
       j.records_synced,
       j.progress,
       j.error,
       j.created_at AS job_created_at,
       j.started_at,
       j.completed_at
FROM app_dashboard.shop_credentials AS c
LEFT JOIN app_dashboard.sync_cursors AS cur
    ON cur.shop_id = c.shop_id AND cur.platform = c.platform
LEFT JOIN LATERAL (
    SELECT j.*
    FROM app_dashboard.sync_jobs AS j
    WHERE j.shop_id = c.shop_id AND j.platform = c.platform
    ORDER BY j.created_at DESC, j.id DESC
    LIMIT 1
) AS j ON true
WHERE c.shop_id = ANY (ARRAY(SELECT storeline_private.user_shop_ids()));

REVOKE ALL ON reporting.sync_status FROM PUBLIC;
GRANT SELECT ON reporting.sync_status TO authenticated;
