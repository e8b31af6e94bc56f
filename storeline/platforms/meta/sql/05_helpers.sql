-- Σ `value` over the entries of an insights `actions` / `action_values` array whose action_type
-- is in `types` (an explicit set; 0 when none). Inlinable: one SQL expression.
CREATE FUNCTION storeline_private.meta_action_sum(entries jsonb, types text[]) RETURNS numeric
    LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT coalesce(sum((e ->> 'value')::numeric), 0)
    FROM jsonb_array_elements(CASE WHEN jsonb_typeof(entries) = 'array' THEN entries
                                   ELSE '[]'::jsonb END) AS e
    WHERE e ->> 'action_type' = ANY (types)
$$;
