-- The scheduler finds the pairs due for a sync by a range scan on the time of their last
-- success instead of visiting every pair's cursor (queries/jobs.sql: schedule_stale).
CREATE INDEX sync_cursors_last_success ON app_dashboard.sync_cursors (last_success_at);
