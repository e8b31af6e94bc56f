-- How much a job type re-pulls: INCREMENTAL < HISTORICAL_INIT < HISTORICAL_REBUILD. When two
-- requests for one (shop, platform) merge into one job (a requeue absorbing a queued sibling, a
-- sync request joining a queued job), the stronger type wins, so no request is lost. NULL for
-- NULL (nothing to merge). A plain SQL expression the planner inlines into both callers.
CREATE FUNCTION storeline_private.job_type_strength(p_job_type text) RETURNS integer
    LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $$
    SELECT array_position(ARRAY['INCREMENTAL', 'HISTORICAL_INIT', 'HISTORICAL_REBUILD'], p_job_type)
$$;
