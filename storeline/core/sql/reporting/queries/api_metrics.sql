-- The API's metrics reads (storeline/api/routes/metrics.py). They run as `authenticated` inside
-- storeline.rls.as_user: RLS on shops, the rollup and the warehouse decides what exists for the
-- caller, so none filters by user. Days are shop-local; money is numeric in the shop currency.

-- name: metrics_shops
-- The caller's shops with "today" in each shop's own timezone (default ranges end there).
-- $1: a shop id, or NULL for every visible shop.
SELECT s.id, s.name, s.currency::text AS currency, s.timezone,
       (now() AT TIME ZONE s.timezone)::date AS today
FROM app_dashboard.shops AS s
WHERE $1::text IS NULL OR s.id = $1::text
ORDER BY s.name, s.id

-- name: metrics_kpis
-- KPIs per shop over its own inclusive range: $1 text[] shop ids, $2 date[] first days,
-- $3 date[] last days (parallel arrays), $4 minutes after which a platform counts as stale.
-- One row per shop, set-based, so the side-by-side view is one statement whatever the count.
--
-- Each source is one CTE returning one row per range. Marketing is NULL for a shop with no ad
-- spend in its currency, traffic for a shop without GA4, pipeline for a shop without HubSpot.
-- roas and open_by_stage are jsonb objects whose values are decimal strings (exact; orjson would
-- turn JSON numbers into floats).
WITH ranges AS (
    -- month_from .. month_end (exclusive): the whole calendar months inside the range, read
    -- from the month totals (the platforms' monthly rollups); the days around them,
    -- day_from .. head_to and tail_from .. day_to, day by day. A range without a whole month is
    -- all head. Sources read them through LATERAL subqueries, so each shop's bounds reach the
    -- (shop_id, day) and (shop_id, month) indexes. The shop's currency and timezone are read
    -- once here: marketing and traffic read their tables directly and apply
    -- reporting.marketing_daily's and reporting.web_traffic_daily's flags with them, rather than
    -- through those views, which join the shop again for every row.
    SELECT r.shop_id, r.day_from, r.day_to, m.month_from, m.month_end,
           CASE WHEN m.whole THEN m.month_from - 1 ELSE r.day_to END AS head_to,
           CASE WHEN m.whole THEN m.month_end ELSE r.day_to + 1 END AS tail_from,
           s.currency::text AS shop_currency, s.timezone AS shop_timezone
    FROM unnest($1::text[], $2::date[], $3::date[]) AS r(shop_id, day_from, day_to)
    LEFT JOIN app_dashboard.shops AS s ON s.id = r.shop_id
    CROSS JOIN LATERAL (
        SELECT b.month_from, b.month_end, b.month_from < b.month_end AS whole
        FROM (SELECT (date_trunc('month', r.day_from - 1) + interval '1 month')::date,
                     date_trunc('month', r.day_to + 1)::date) AS b(month_from, month_end)
    ) AS m
),
revenue AS (
    SELECT r.shop_id,
           coalesce(sum(k.orders), 0)::integer AS orders,
           coalesce(sum(k.gross_sales), 0) AS gross_sales,
           coalesce(sum(k.discounts), 0) AS discounts,
           coalesce(sum(k.returns), 0) AS returns,
           coalesce(sum(k.net_sales), 0) AS net_sales,
           coalesce(sum(k.shipping), 0) AS shipping,
           coalesce(sum(k.taxes), 0) AS taxes,
           coalesce(sum(k.duties), 0) AS duties,
           coalesce(sum(k.additional_fees), 0) AS additional_fees,
           coalesce(sum(k.return_fees), 0) AS return_fees,
           coalesce(sum(k.total_sales), 0) AS total_sales,
           coalesce(sum(k.provisional_days), 0)::integer AS provisional_days
    FROM ranges AS r
    -- Order-level figures, or Shopify's own where the backfill has not landed (provisional):
    -- reporting.daily_figures per day, reporting.monthly_figure_parts per whole month.
    LEFT JOIN LATERAL (
        SELECT d.orders, d.gross_sales, d.discounts, d.returns, d.net_sales, d.shipping,
               d.taxes, d.duties, d.additional_fees, d.return_fees, d.total_sales,
               d.provisional::integer AS provisional_days
        FROM reporting.daily_figures AS d
        WHERE d.shop_id = r.shop_id AND d.day BETWEEN r.day_from AND r.head_to
        UNION ALL
        SELECT d.orders, d.gross_sales, d.discounts, d.returns, d.net_sales, d.shipping,
               d.taxes, d.duties, d.additional_fees, d.return_fees, d.total_sales,
               d.provisional::integer
        FROM reporting.daily_figures AS d
        WHERE d.shop_id = r.shop_id AND d.day BETWEEN r.tail_from AND r.day_to
        UNION ALL
        SELECT m.orders, m.gross_sales, m.discounts, m.returns, m.net_sales, m.shipping,
               m.taxes, m.duties, m.additional_fees, m.return_fees, m.total_sales,
               m.provisional_days
        FROM reporting.monthly_figure_parts AS m
        WHERE m.shop_id = r.shop_id AND m.month >= r.month_from AND m.month < r.month_end
    ) AS k ON true
    GROUP BY r.shop_id
),
report AS (
    -- Shopify's own report against ours over the range (reporting.shopify_report_comparison),
    -- and the shop's latest reconciliation (no row: never checked).
    SELECT r.shop_id,
           coalesce(min(ch.status), 'pending') AS report_status,
           min(ch.reason) AS report_reason,
           min(ch.checked_at) AS report_checked_at,
           count(c.day) FILTER (WHERE c.agrees)::integer AS report_days_agreeing,
           count(c.day) FILTER (WHERE NOT c.agrees)::integer AS report_days_disagreeing
    FROM ranges AS r
    LEFT JOIN reporting.shopify_report_checks AS ch ON ch.shop_id = r.shop_id
    LEFT JOIN reporting.shopify_report_comparison AS c
        ON c.shop_id = r.shop_id AND c.day BETWEEN r.day_from AND r.day_to
    GROUP BY r.shop_id
),
marketing_platforms AS (
    -- Spend and purchase value per platform over the range, in the shop's currency only: an ad
    -- account in another currency is never summed into MER (reporting.marketing_daily's
    -- in_shop_currency). Days from core_warehouse.fact_marketing_daily, whole months from
    -- reporting.marketing_monthly_totals.
    SELECT r.shop_id, x.platform, sum(x.spend) AS spend, sum(x.purchase_value) AS value
    FROM ranges AS r
    CROSS JOIN LATERAL (
        SELECT m.platform, m.spend, m.purchase_value
        FROM core_warehouse.fact_marketing_daily AS m
        WHERE m.shop_id = r.shop_id AND m.day BETWEEN r.day_from AND r.head_to
          AND m.currency = r.shop_currency
        UNION ALL
        SELECT m.platform, m.spend, m.purchase_value
        FROM core_warehouse.fact_marketing_daily AS m
        WHERE m.shop_id = r.shop_id AND m.day BETWEEN r.tail_from AND r.day_to
          AND m.currency = r.shop_currency
        UNION ALL
        SELECT m.platform, m.spend, m.purchase_value
        FROM reporting.marketing_monthly_totals AS m
        WHERE m.shop_id = r.shop_id AND m.month >= r.month_from AND m.month < r.month_end
          AND m.currency = r.shop_currency
    ) AS x
    GROUP BY r.shop_id, x.platform
),
marketing AS (
    -- Σ spend over every platform; ROAS per platform = its purchase value / its spend.
    SELECT r.shop_id, sum(p.spend) AS ad_spend,
           jsonb_object_agg(p.platform, round(p.value / nullif(p.spend, 0), 2)::text)
               FILTER (WHERE p.platform IS NOT NULL AND p.spend > 0) AS roas
    FROM ranges AS r
    LEFT JOIN marketing_platforms AS p ON p.shop_id = r.shop_id
    GROUP BY r.shop_id
),
traffic AS (
    -- GA4 day totals (reporting.web_traffic_daily); NULL for a shop without GA4 data. Users are
    -- de-duplicated by GA4 over the range a request asks for and cannot be summed
    -- (docs/platforms/ga4.md, item 5): `users` is a one-day range's day total, or the users
    -- GA4 counted over exactly this range when the connector asked for it (the last 7 / 30 days
    -- ending today, a calendar month, month to date: reporting.web_traffic_range_users), else
    -- NULL; `avg_daily_users` is the mean of the days' own counts. New users add up across days
    -- (a user is new once). Ratios come from summed parts; revenue per session only from
    -- revenue in the shop's currency.
    -- A month total's `users` sums its `days` days' own counts.
    SELECT r.shop_id, sum(t.sessions)::bigint AS sessions,
           coalesce(
               CASE WHEN r.day_from = r.day_to THEN max(t.users) END,
               (SELECT u.users FROM reporting.web_traffic_range_users AS u
                WHERE u.shop_id = r.shop_id AND u.first_day = r.day_from
                  AND u.last_day = r.day_to
                ORDER BY u.updated_at DESC
                LIMIT 1)
           ) AS users,
           round(sum(t.users) / nullif(sum(t.days), 0), 2) AS avg_daily_users,
           sum(t.new_users)::bigint AS new_users,
           round(sum(t.engaged_sessions)::numeric / nullif(sum(t.sessions), 0), 4)
               AS engagement_rate,
           round(sum(t.transactions)::numeric / nullif(sum(t.sessions), 0), 4) AS conversion_rate,
           round(sum(t.purchase_revenue) FILTER (WHERE t.in_shop_currency)
                 / nullif(sum(t.sessions) FILTER (WHERE t.in_shop_currency), 0), 2)
               AS revenue_per_session,
           bool_and(t.timezone_matches_shop) AS traffic_timezone_matches_shop
    FROM ranges AS r
    -- Days from core_warehouse.fact_web_traffic_day_totals, whole months from
    -- reporting.web_traffic_monthly_totals; flags as reporting.web_traffic_daily sets them.
    LEFT JOIN LATERAL (
        SELECT 1 AS days, w.sessions, w.users, w.new_users, w.engaged_sessions, w.transactions,
               w.purchase_revenue,
               w.currency IS NOT DISTINCT FROM r.shop_currency AS in_shop_currency,
               w.property_timezone IS NOT DISTINCT FROM r.shop_timezone AS timezone_matches_shop
        FROM core_warehouse.fact_web_traffic_day_totals AS w
        WHERE w.shop_id = r.shop_id AND w.day BETWEEN r.day_from AND r.head_to
        UNION ALL
        SELECT 1, w.sessions, w.users, w.new_users, w.engaged_sessions, w.transactions,
               w.purchase_revenue, w.currency IS NOT DISTINCT FROM r.shop_currency,
               w.property_timezone IS NOT DISTINCT FROM r.shop_timezone
        FROM core_warehouse.fact_web_traffic_day_totals AS w
        WHERE w.shop_id = r.shop_id AND w.day BETWEEN r.tail_from AND r.day_to
        UNION ALL
        SELECT w.days, w.sessions, w.users, w.new_users, w.engaged_sessions, w.transactions,
               w.purchase_revenue, w.currency IS NOT DISTINCT FROM r.shop_currency,
               w.property_timezone IS NOT DISTINCT FROM r.shop_timezone
        FROM reporting.web_traffic_monthly_totals AS w
        WHERE w.shop_id = r.shop_id AND w.month >= r.month_from AND w.month < r.month_end
    ) AS t ON true
    GROUP BY r.shop_id, r.day_from, r.day_to
),
pipeline AS (
    -- HubSpot: the open pipeline now (per open stage id and in all: amount, and amount weighted
    -- by the stage's probability, rounded to the cent), and over the range (by the deals'
    -- shop-local days) deals created, won and lost, the amount won and the win rate, won over
    -- won + lost (never a mean of daily rates). Money is in the shop's currency only, deals
    -- HubSpot converted to it included; the others are counted as flagged, never summed.
    -- NULL for a shop whose pipelines were never synced.
    SELECT r.shop_id, o.open_by_stage, o.weighted_by_stage, o.open_deals, o.open_amount,
           o.weighted_open_amount, o.open_other_currency_deals,
           CASE WHEN o.open_by_stage IS NOT NULL THEN coalesce(w.won_amount, 0) END AS won_amount,
           coalesce(w.deals_created, 0) AS deals_created, coalesce(w.deals_won, 0) AS deals_won,
           coalesce(w.deals_lost, 0) AS deals_lost,
           coalesce(w.won_other_currency_deals, 0) AS won_other_currency_deals,
           round(w.deals_won::numeric / nullif(w.deals_won + w.deals_lost, 0), 4) AS win_rate
    FROM ranges AS r
    LEFT JOIN LATERAL (
        SELECT jsonb_object_agg(p.stage_id, p.open_amount::text) AS open_by_stage,
               jsonb_object_agg(p.stage_id, round(p.weighted_amount, 2)::text)
                   AS weighted_by_stage,
               sum(p.open_deals)::integer AS open_deals, sum(p.open_amount) AS open_amount,
               round(sum(p.weighted_amount), 2) AS weighted_open_amount,
               sum(p.other_currency_deals)::integer AS open_other_currency_deals
        FROM reporting.pipeline_summary AS p
        WHERE p.shop_id = r.shop_id
    ) AS o ON true
    LEFT JOIN LATERAL (
        SELECT sum(d.won_amount) AS won_amount, sum(d.deals_created)::integer AS deals_created,
               sum(d.deals_won)::integer AS deals_won, sum(d.deals_lost)::integer AS deals_lost,
               sum(d.won_other_currency)::integer AS won_other_currency_deals
        FROM reporting.pipeline_daily AS d
        WHERE d.shop_id = r.shop_id AND d.day BETWEEN r.day_from AND r.day_to
    ) AS w ON true
),
staleness AS (
    -- A connected platform that never succeeded has no data at all: it counts as stale.
    SELECT st.shop_id,
           max(st.stale_minutes) AS max_stale_minutes,
           coalesce(array_agg(st.platform ORDER BY st.platform)
                    FILTER (WHERE st.stale_minutes IS NULL OR st.stale_minutes > $4::integer),
                    '{}') AS stale_platforms
    FROM reporting.sync_status AS st
    WHERE st.shop_id = ANY ($1::text[])
    GROUP BY st.shop_id
)
SELECT r.shop_id, r.day_from, r.day_to,
       v.orders, v.gross_sales, v.discounts, v.returns, v.net_sales, v.shipping, v.taxes,
       v.duties, v.additional_fees, v.return_fees, v.total_sales, v.provisional_days,
       rc.report_status, rc.report_reason, rc.report_checked_at, rc.report_days_agreeing,
       rc.report_days_disagreeing,
       -- Over the whole range, not a mean of daily AOVs (same rule as reporting.daily_revenue).
       round((v.gross_sales - v.discounts) / nullif(v.orders, 0), 2) AS aov,
       m.ad_spend,
       round(v.total_sales / nullif(m.ad_spend, 0), 2) AS mer,
       m.roas,
       t.sessions, t.users, t.avg_daily_users, t.new_users, t.engagement_rate,
       t.conversion_rate, t.revenue_per_session, t.traffic_timezone_matches_shop,
       p.open_by_stage, p.weighted_by_stage, p.open_deals, p.open_amount, p.weighted_open_amount,
       p.open_other_currency_deals, p.won_amount, p.deals_created, p.deals_won, p.deals_lost,
       p.won_other_currency_deals, p.win_rate,
       st.max_stale_minutes,
       coalesce(st.stale_platforms, '{}') AS stale_platforms
FROM ranges AS r
JOIN revenue AS v ON v.shop_id = r.shop_id
JOIN report AS rc ON rc.shop_id = r.shop_id
JOIN marketing AS m ON m.shop_id = r.shop_id
JOIN traffic AS t ON t.shop_id = r.shop_id
JOIN pipeline AS p ON p.shop_id = r.shop_id
LEFT JOIN staleness AS st ON st.shop_id = r.shop_id

-- name: metrics_daily
-- One row per day of the inclusive range ($1 shop, $2 first day, $3 last day), days without a
-- rollup row as zeros. Figures and AOV come from reporting.daily_figures: order-level, or
-- Shopify's own report marked provisional while the backfill has not covered the day. The
-- report_* columns compare Shopify's figure with ours (NULL: not verified for that day).
SELECT d.day,
       coalesce(k.orders, 0) AS orders,
       coalesce(k.gross_sales, 0) AS gross_sales,
       coalesce(k.discounts, 0) AS discounts,
       coalesce(k.returns, 0) AS returns,
       coalesce(k.net_sales, 0) AS net_sales,
       coalesce(k.shipping, 0) AS shipping,
       coalesce(k.taxes, 0) AS taxes,
       coalesce(k.duties, 0) AS duties,
       coalesce(k.additional_fees, 0) AS additional_fees,
       coalesce(k.return_fees, 0) AS return_fees,
       coalesce(k.total_sales, 0) AS total_sales,
       k.aov,
       coalesce(k.provisional, false) AS provisional,
       c.agrees AS report_agrees,
       c.differences AS report_differences,
       -- GA4's own figures for the day (NULL without GA4 data): the day-level user totals a
       -- range's users cannot be summed from (docs/platforms/ga4.md, item 5).
       w.sessions AS traffic_sessions, w.users AS traffic_users,
       w.new_users AS traffic_new_users, w.engagement_rate AS traffic_engagement_rate,
       w.conversion_rate AS traffic_conversion_rate
FROM generate_series(0, $3::date - $2::date) AS i
CROSS JOIN LATERAL (SELECT $2::date + i AS day) AS d
LEFT JOIN reporting.daily_figures AS k ON k.shop_id = $1::text AND k.day = d.day
LEFT JOIN reporting.shopify_report_comparison AS c ON c.shop_id = $1::text AND c.day = d.day
-- The first property's day (by id), read in one range scan rather than one index probe per day.
LEFT JOIN (
    SELECT DISTINCT ON (t.day) t.day, t.sessions, t.users, t.new_users, t.engagement_rate,
           t.conversion_rate
    FROM reporting.web_traffic_daily AS t
    WHERE t.shop_id = $1::text AND t.day BETWEEN $2::date AND $3::date
    ORDER BY t.day, t.property_id
) AS w ON w.day = d.day
ORDER BY d.day

-- name: metrics_recent_orders
-- The latest orders placed in the range ($1 shop, $2 first day, $3 last day, $4 how many); test
-- and deleted orders never show, as in every report. orders_shop_day_idx finds the range.
SELECT o.id, o.name, o.processed_at, o.processed_date AS day, o.total_price AS total,
       o.current_total_price AS current_total, o.financial_status, o.fulfillment_status,
       o.cancelled_at IS NOT NULL AS cancelled
FROM core_warehouse.orders AS o
WHERE o.shop_id = $1::text AND o.processed_date BETWEEN $2::date AND $3::date
  AND NOT o.test AND o.deleted_at IS NULL
ORDER BY o.processed_at DESC, o.id DESC
LIMIT $4::integer

-- name: metrics_top_campaigns
-- The top campaigns by spend over the range ($1 shop, $2 first day, $3 last day, $4 how many),
-- in the shop's currency (campaigns of an ad account in another currency are left out), read
-- from the campaign rollup (platforms/meta/sql/40_campaign_rollup.sql), not the ad-day facts.
SELECT f.platform, f.campaign_id, max(f.campaign_name) AS campaign_name,
       sum(f.spend) AS spend, sum(f.purchase_value) AS purchase_value,
       round(sum(f.purchase_value) / nullif(sum(f.spend), 0), 2) AS roas
FROM reporting.campaign_daily AS f
JOIN app_dashboard.shops AS s ON s.id = f.shop_id
WHERE f.shop_id = $1::text AND f.day BETWEEN $2::date AND $3::date
  AND f.currency = s.currency::text
GROUP BY f.platform, f.campaign_id
ORDER BY spend DESC, f.campaign_id
LIMIT $4::integer

-- name: metrics_ad_accounts
-- The shop's ad accounts with whether their currency and timezone match the shop's
-- (reporting.ad_accounts), so a left-out account is shown, not hidden.
SELECT a.platform, a.account_id, a.currency, a.timezone, a.currency_matches_shop,
       a.timezone_matches_shop
FROM reporting.ad_accounts AS a
WHERE a.shop_id = $1::text
ORDER BY a.platform, a.account_id

-- name: metrics_freshness
-- Each connected platform's last success and staleness (reporting.sync_status filters by the
-- caller's shops itself).
SELECT st.platform, st.credential_status, st.last_success_at, st.stale_minutes
FROM reporting.sync_status AS st
WHERE st.shop_id = $1::text
ORDER BY st.platform
