-- Staging retention (storeline/core/sql/app_dashboard/98_staging_retention.sql): a week, and
-- each shop's last three successful jobs whatever their age.
INSERT INTO storeline_private.staging_tables (table_name, platform, keep_days, keep_jobs)
VALUES ('staging_ingest.ga4_reports_raw', 'GA4', 7, 3);
