-- The two helpers every Shopify row passes through, rewritten so the planner inlines them
-- (revision 0006; replaces the definitions in staging_ingest/10_shopify.sql and
-- core_warehouse/10_shopify.sql, with the same results for every input).
--
-- A SQL function is inlined into the calling query only when its body is a single expression:
-- no FROM, no sub-SELECT. The old bodies had one, so each call went through the SQL-function
-- executor (about 2 µs), and shopify_gid_id also ran a regular expression. They run for every
-- staged line (object_id and parent_id are generated from them at COPY time) and several times
-- per warehouse row; inlined, the transform's upserts take about a third less CPU.
-- Idempotent (CREATE OR REPLACE): safe to re-run.

-- 'gid://shopify/Order/123' (optionally '?…') → 123; anything that is not 1–18 digits → NULL.
-- ltrim(x, digits) = '' is "x is all digits" without a regular expression.
CREATE OR REPLACE FUNCTION storeline_private.shopify_gid_id(gid text) RETURNS bigint
    LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT CASE WHEN length(split_part(split_part(gid, '/', 5), '?', 1)) BETWEEN 1 AND 18
                 AND ltrim(split_part(split_part(gid, '/', 5), '?', 1), '0123456789') = ''
                THEN split_part(split_part(gid, '/', 5), '?', 1)::bigint END
$$;

-- A connection as the bulk JSONL or a page renders it (a list, {nodes: […]} or
-- {edges: [{node}]}) → a jsonb array; anything else → []. The jsonpath replaces a sub-SELECT
-- over jsonb_array_elements (which ruled out inlining); no matches give [].
CREATE OR REPLACE FUNCTION storeline_private.shopify_nodes(c jsonb) RETURNS jsonb
    LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT CASE jsonb_typeof(c)
        WHEN 'array' THEN c
        WHEN 'object' THEN coalesce(c -> 'nodes', jsonb_path_query_array(c, '$.edges[*].node'))
        ELSE '[]'::jsonb
    END
$$;
