-- The pipeline as the dashboard reads it. Money is summed only where the deal's currency is the
-- shop's; deals in another currency (or none) are counted in `other_currency_deals` /
-- `won_other_currency`, flagged, never summed. A deal without an amount counts as 0, as
-- HubSpot's own rollups count it. Archived deals have left the CRM and are left out.

-- Open deals per open stage now: count, amount and amount weighted by the stage's probability.
CREATE VIEW reporting.pipeline_summary WITH (security_invoker = true) AS
SELECT st.shop_id, st.pipeline_id, st.pipeline_label, st.stage_id, st.stage_label,
       st.stage_order, st.probability, s.currency::text AS currency,
       count(d.deal_id) AS open_deals,
       coalesce(sum(coalesce(d.amount, 0)) FILTER (WHERE d.currency = s.currency::text), 0)
           AS open_amount,
       coalesce(sum(coalesce(d.amount, 0) * coalesce(st.probability, 0))
                    FILTER (WHERE d.currency = s.currency::text), 0) AS weighted_amount,
       count(d.deal_id) FILTER (WHERE d.currency IS DISTINCT FROM s.currency::text)
           AS other_currency_deals
FROM core_warehouse.crm_pipeline_stages AS st
JOIN app_dashboard.shops AS s ON s.id = st.shop_id
LEFT JOIN core_warehouse.crm_deals AS d
    ON d.shop_id = st.shop_id AND d.pipeline_id = st.pipeline_id AND d.stage_id = st.stage_id
   AND NOT d.archived
WHERE NOT st.is_closed AND NOT st.archived
GROUP BY st.shop_id, st.pipeline_id, st.pipeline_label, st.stage_id, st.stage_label,
         st.stage_order, st.probability, s.currency;
GRANT SELECT ON reporting.pipeline_summary TO authenticated;

-- Per shop-local day: deals created (by create date), won and lost (by close date), the won
-- amount in the shop's currency, and the day's win rate (won / closed).
CREATE VIEW reporting.pipeline_daily WITH (security_invoker = true) AS
WITH deals AS (
    SELECT d.shop_id, d.amount, d.created_at, d.close_date, s.timezone,
           d.currency = s.currency::text AS in_shop_currency,
           coalesce(st.is_closed, d.is_closed_won, false) AS is_closed,
           coalesce(st.is_won, d.is_closed_won, false) AS is_won
    FROM core_warehouse.crm_deals AS d
    JOIN app_dashboard.shops AS s ON s.id = d.shop_id
    LEFT JOIN core_warehouse.crm_pipeline_stages AS st
        ON st.shop_id = d.shop_id AND st.pipeline_id = d.pipeline_id AND st.stage_id = d.stage_id
    WHERE NOT d.archived
),
events AS (
    SELECT shop_id, (created_at AT TIME ZONE timezone)::date AS day, 1 AS created, 0 AS won,
           0 AS lost, 0::numeric AS won_amount, 0 AS won_other
    FROM deals
    UNION ALL
    SELECT shop_id, (close_date AT TIME ZONE timezone)::date, 0, is_won::int, (NOT is_won)::int,
           CASE WHEN is_won AND in_shop_currency THEN coalesce(amount, 0) ELSE 0 END,
           (is_won AND in_shop_currency IS NOT TRUE)::int
    FROM deals
    WHERE is_closed AND close_date IS NOT NULL
)
SELECT shop_id, day, sum(created)::integer AS deals_created, sum(won)::integer AS deals_won,
       sum(lost)::integer AS deals_lost, sum(won_amount) AS won_amount,
       sum(won_other)::integer AS won_other_currency,
       round(sum(won)::numeric / nullif(sum(won) + sum(lost), 0), 4) AS win_rate
FROM events
GROUP BY shop_id, day;
GRANT SELECT ON reporting.pipeline_daily TO authenticated;
