-- The rows of a runReport answer as jsonb objects {dimension or metric name: value}, each value
-- read by its header's position (dimensionHeaders / metricHeaders), so no query depends on the
-- order a request listed its fields in. No rows (proto3 leaves an empty list out) → no objects.
CREATE FUNCTION storeline_private.ga4_rows(response jsonb) RETURNS SETOF jsonb
    LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT coalesce((SELECT jsonb_object_agg(h ->> 'name', v ->> 'value')
                     FROM jsonb_array_elements(response -> 'dimensionHeaders')
                          WITH ORDINALITY AS dh(h, i)
                     JOIN jsonb_array_elements(r -> 'dimensionValues')
                          WITH ORDINALITY AS dv(v, j) ON i = j), '{}'::jsonb)
        || coalesce((SELECT jsonb_object_agg(h ->> 'name', coalesce(v ->> 'value', '0'))
                     FROM jsonb_array_elements(response -> 'metricHeaders')
                          WITH ORDINALITY AS mh(h, i)
                     JOIN jsonb_array_elements(r -> 'metricValues')
                          WITH ORDINALITY AS mv(v, j) ON i = j), '{}'::jsonb)
    FROM jsonb_array_elements(coalesce(response -> 'rows', '[]'::jsonb)) AS r
$$;
