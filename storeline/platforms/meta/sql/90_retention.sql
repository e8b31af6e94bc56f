-- Staging retention (storeline/core/sql/app_dashboard/98_staging_retention.sql): every pulled
-- version of a day is kept while Meta may still restate it (the 28-day attribution window) and
-- a week more, so a day's restatement trail can be read through its whole open life; the facts
-- keep when each day last changed and became final for good.
INSERT INTO storeline_private.staging_tables (table_name, platform, keep_days, keep_jobs)
VALUES ('staging_ingest.meta_insights_raw', 'META', 35, 3);
