-- The GA4 connector's statements (storeline/platforms/ga4/connector.py).

-- name: ga4_delete_rows
-- The days this job re-pulled are replaced, not merged ($1 shop, $2 property, $3..$4 days): a
-- combination that had sessions on a re-pulled day and has none now disappears.
DELETE FROM core_warehouse.fact_web_traffic_daily
WHERE shop_id = $1 AND property_id = $2 AND day BETWEEN $3::date AND $4::date

-- name: ga4_delete_totals
-- As ga4_delete_rows, for the day totals.
DELETE FROM core_warehouse.fact_web_traffic_day_totals
WHERE shop_id = $1 AND property_id = $2 AND day BETWEEN $3::date AND $4::date

-- name: ga4_insert_rows
-- The job's one-day breakdown pages → rows ($1 shop, $2 property, $3 job). A page staged twice
-- (a retried chunk) counts once, the newest copy; a combination on two pages (GA4 recomputed
-- between them) once, from the newest page.
WITH pages AS (
    SELECT DISTINCT ON (payload ->> 'day', (payload ->> 'offset')::integer)
           line_no, payload -> 'response' AS response
    FROM staging_ingest.ga4_reports_raw
    WHERE sync_job_id = $3 AND kind = 'rows'
    ORDER BY payload ->> 'day', (payload ->> 'offset')::integer, line_no DESC
),
rows AS (
    SELECT DISTINCT ON (day, r ->> 'sessionDefaultChannelGroup', r ->> 'sessionSource',
                        r ->> 'sessionMedium', r ->> 'deviceCategory')
           to_date(r ->> 'date', 'YYYYMMDD') AS day, r,
           p.response -> 'metadata' ->> 'currencyCode' AS currency
    FROM pages AS p
    CROSS JOIN LATERAL storeline_private.ga4_rows(p.response) AS r
    CROSS JOIN LATERAL (SELECT to_date(r ->> 'date', 'YYYYMMDD') AS day) AS d
    ORDER BY day, r ->> 'sessionDefaultChannelGroup', r ->> 'sessionSource',
             r ->> 'sessionMedium', r ->> 'deviceCategory', p.line_no DESC
)
INSERT INTO core_warehouse.fact_web_traffic_daily (
    shop_id, property_id, day, channel_group, source, medium, device, currency, sessions,
    engaged_sessions, key_events, transactions, purchase_revenue, sync_job_id)
SELECT $1, $2, day, r ->> 'sessionDefaultChannelGroup', r ->> 'sessionSource',
       r ->> 'sessionMedium', r ->> 'deviceCategory', currency,
       (r ->> 'sessions')::bigint, (r ->> 'engagedSessions')::bigint,
       (r ->> 'keyEvents')::numeric, (r ->> 'transactions')::bigint,
       (r ->> 'purchaseRevenue')::numeric, $3
FROM rows

-- name: ga4_insert_totals
-- The job's day-total pages → one row per day, with the day's flags from its breakdown pages
-- ($1 shop, $2 property, $3 job, $4 last final day, $5 the property's timezone from the plan).
-- Users come from the date-only rows as they are: one row is one whole day.
WITH totals AS (
    SELECT DISTINCT ON (payload ->> 'since', (payload ->> 'offset')::integer)
           line_no, payload -> 'response' AS response
    FROM staging_ingest.ga4_reports_raw
    WHERE sync_job_id = $3 AND kind = 'totals'
    ORDER BY payload ->> 'since', (payload ->> 'offset')::integer, line_no DESC
),
days AS (
    SELECT DISTINCT ON (d.day) d.day, r, t.response -> 'metadata' AS meta
    FROM totals AS t
    CROSS JOIN LATERAL storeline_private.ga4_rows(t.response) AS r
    CROSS JOIN LATERAL (SELECT to_date(r ->> 'date', 'YYYYMMDD') AS day) AS d
    ORDER BY d.day, t.line_no DESC
),
breakdown AS (
    SELECT DISTINCT ON (payload ->> 'day', (payload ->> 'offset')::integer)
           (payload ->> 'day')::date AS day, payload -> 'response' AS response
    FROM staging_ingest.ga4_reports_raw
    WHERE sync_job_id = $3 AND kind = 'rows'
    ORDER BY payload ->> 'day', (payload ->> 'offset')::integer, line_no DESC
),
flags AS (
    SELECT b.day,
           bool_or(coalesce((b.response -> 'metadata' ->> 'dataLossFromOtherRow')::boolean,
                            false)) AS other,
           bool_or(coalesce((b.response -> 'metadata' ->> 'subjectToThresholding')::boolean,
                            false)) AS thresholded,
           bool_or(b.response -> 'metadata' ? 'samplingMetadatas') AS sampled,
           max(b.response -> 'metadata' ->> 'emptyReason') AS empty_reason,
           sum(coalesce((b.response -> 'propertyQuota' -> 'tokensPerHour' ->> 'consumed')::integer,
                        0)) AS tokens
    FROM breakdown AS b
    GROUP BY b.day
)
INSERT INTO core_warehouse.fact_web_traffic_day_totals (
    shop_id, property_id, day, property_timezone, currency, sessions, users, new_users,
    engaged_sessions, key_events, transactions, purchase_revenue, data_loss_from_other_row,
    subject_to_thresholding, sampled, sampling, empty_reason, quota_tokens, final, sync_job_id)
SELECT $1, $2, d.day, coalesce(d.meta ->> 'timeZone', $5::text), d.meta ->> 'currencyCode',
       (d.r ->> 'sessions')::bigint, (d.r ->> 'totalUsers')::bigint,
       (d.r ->> 'newUsers')::bigint, (d.r ->> 'engagedSessions')::bigint,
       (d.r ->> 'keyEvents')::numeric, (d.r ->> 'transactions')::bigint,
       (d.r ->> 'purchaseRevenue')::numeric,
       coalesce(f.other, false),
       coalesce((d.meta ->> 'subjectToThresholding')::boolean, false)
           OR coalesce(f.thresholded, false),
       d.meta ? 'samplingMetadatas' OR coalesce(f.sampled, false),
       d.meta -> 'samplingMetadatas',
       coalesce(f.empty_reason, d.meta ->> 'emptyReason'),
       coalesce(f.tokens, 0),
       d.day <= $4::date,
       $3
FROM days AS d
LEFT JOIN flags AS f ON f.day = d.day

-- name: ga4_delete_ranges
-- Range users overlapping the re-pulled days ($1 shop, $2 property, $3..$4 days): their users
-- may have changed with those days; this job asked for the ones still wanted again.
DELETE FROM core_warehouse.fact_web_traffic_range_totals
WHERE shop_id = $1 AND property_id = $2 AND first_day <= $4::date AND last_day >= $3::date

-- name: ga4_insert_ranges
-- The job's range pages → one row per range ($1 shop, $2 property, $3 job): a request with no
-- dimension answers one row, users counted over the whole range. A range without data has no
-- row (GA4 leaves `rows` out), so none is stored and the API shows no users for it.
WITH pages AS (
    SELECT DISTINCT ON (payload ->> 'since', payload ->> 'until')
           (payload ->> 'since')::date AS first_day, (payload ->> 'until')::date AS last_day,
           payload -> 'response' AS response
    FROM staging_ingest.ga4_reports_raw
    WHERE sync_job_id = $3 AND kind = 'range'
    ORDER BY payload ->> 'since', payload ->> 'until', line_no DESC
)
INSERT INTO core_warehouse.fact_web_traffic_range_totals AS t (
    shop_id, property_id, first_day, last_day, sessions, users, new_users, sampled, sync_job_id)
SELECT $1, $2, p.first_day, p.last_day, (r ->> 'sessions')::bigint,
       (r ->> 'totalUsers')::bigint, (r ->> 'newUsers')::bigint,
       p.response -> 'metadata' ? 'samplingMetadatas', $3
FROM pages AS p
CROSS JOIN LATERAL storeline_private.ga4_rows(p.response) AS r
ON CONFLICT (shop_id, property_id, first_day, last_day) DO UPDATE SET
    sessions = excluded.sessions, users = excluded.users, new_users = excluded.new_users,
    sampled = excluded.sampled, sync_job_id = excluded.sync_job_id, updated_at = now()
