-- The platforms Storeline knows, in one place: a domain the platform columns take as their type
-- (revision 0001's CHECKs on shop_credentials, sync_jobs and sync_cursors each repeated the
-- list). The members are those of storeline.core.enums.Platform, each with its entry in the
-- platform registry (storeline/platforms/__init__.py); tests/platforms/test_registry.py checks
-- that they agree. A new platform is a revision that swaps the constraint:
--   ALTER DOMAIN app_dashboard.platform DROP CONSTRAINT platform_known;
--   ALTER DOMAIN app_dashboard.platform ADD CONSTRAINT platform_known CHECK (VALUE IN (…));
-- A domain rather than a lookup table: every enqueue would otherwise take a KEY SHARE lock on
-- the same few rows of the lookup table (foreign-key checks), on the hottest insert path.
CREATE DOMAIN app_dashboard.platform AS text
    CONSTRAINT platform_known CHECK (VALUE IN ('SHOPIFY', 'META', 'GA4', 'HUBSPOT'));

-- A column a view reads cannot change type: reporting.sync_status is dropped here and created
-- again, unchanged, from its own file by the same revision.
DROP VIEW reporting.sync_status;

ALTER TABLE app_dashboard.shop_credentials
    DROP CONSTRAINT shop_credentials_platform_check,
    ALTER COLUMN platform TYPE app_dashboard.platform;
ALTER TABLE app_dashboard.sync_jobs
    DROP CONSTRAINT sync_jobs_platform_check,
    ALTER COLUMN platform TYPE app_dashboard.platform;
ALTER TABLE app_dashboard.sync_cursors
    DROP CONSTRAINT sync_cursors_platform_check,
    ALTER COLUMN platform TYPE app_dashboard.platform;
