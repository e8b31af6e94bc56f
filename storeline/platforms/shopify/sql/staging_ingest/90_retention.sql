-- Staging retention (storeline/core/sql/app_dashboard/98_staging_retention.sql): a week, and
-- each shop's last three successful jobs whatever their age.
INSERT INTO storeline_private.staging_tables (table_name, platform, keep_days, keep_jobs)
VALUES ('staging_ingest.shopify_bulk_rows', 'SHOPIFY', 7, 3);
