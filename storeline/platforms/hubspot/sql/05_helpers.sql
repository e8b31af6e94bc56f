-- HubSpot property values as Postgres types (docs/platforms/hubspot.md, item 9). Properties are
-- strings: null when never set, "" once cleared; datetimes come with and without milliseconds
-- (timestamptz reads both), date-type properties as epoch milliseconds at midnight UTC.
CREATE FUNCTION storeline_private.hubspot_number(value text) RETURNS numeric
    LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT nullif(btrim(value), '')::numeric
$$;

-- A datetime property: ISO (`…:00Z`, `…:00.219Z`) or, as some echoes send it, epoch ms.
CREATE FUNCTION storeline_private.hubspot_datetime(value text) RETURNS timestamptz
    LANGUAGE sql STABLE PARALLEL SAFE AS $$
    SELECT CASE WHEN nullif(btrim(value), '') IS NULL THEN NULL
                WHEN value ~ '^\d+$' THEN to_timestamp(value::bigint / 1000.0)
                ELSE value::timestamptz END
$$;

-- A date-type property: epoch milliseconds at midnight UTC → that UTC date.
CREATE FUNCTION storeline_private.hubspot_date(value text) RETURNS date
    LANGUAGE sql STABLE PARALLEL SAFE AS $$
    SELECT CASE WHEN nullif(btrim(value), '') IS NULL THEN NULL
                WHEN value ~ '^\d+$' THEN (to_timestamp(value::bigint / 1000.0) AT TIME ZONE 'UTC')::date
                ELSE (value::timestamptz AT TIME ZONE 'UTC')::date END
$$;

-- The ids of one association kind of a CRM v3 object (`associations.<kind>.results[].id`),
-- distinct and sorted ('{}' when the object has none of that kind).
CREATE FUNCTION storeline_private.hubspot_links(obj jsonb, kind text) RETURNS text[]
    LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT coalesce(array_agg(DISTINCT a ->> 'id' ORDER BY a ->> 'id'), '{}')
    FROM jsonb_array_elements(CASE WHEN jsonb_typeof(obj -> 'associations' -> kind -> 'results') = 'array'
                                   THEN obj -> 'associations' -> kind -> 'results'
                                   ELSE '[]'::jsonb END) AS a
$$;
