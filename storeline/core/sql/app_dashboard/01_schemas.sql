-- Every Storeline schema. `db reset` drops exactly these (plus storeline_private) and rebuilds.
CREATE SCHEMA app_dashboard;
CREATE SCHEMA staging_ingest;
CREATE SCHEMA core_warehouse;
CREATE SCHEMA reporting;
-- Not exposed to users: security-definer helpers the RLS policies call.
CREATE SCHEMA storeline_private;

-- Storeline's schemas never get Supabase's automatic grants: grant usage explicitly. Raw staging
-- data is not reachable by users at all.
GRANT USAGE ON SCHEMA app_dashboard, core_warehouse, reporting TO authenticated, service_role;
GRANT USAGE ON SCHEMA storeline_private TO authenticated;
GRANT USAGE ON SCHEMA staging_ingest TO service_role;
