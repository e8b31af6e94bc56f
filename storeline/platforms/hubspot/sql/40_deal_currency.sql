-- A deal's currency as HubSpot has it (docs/platforms/hubspot.md, "Deal currency"): a
-- single-currency portal leaves `deal_currency_code` unset, the amount being in the portal's
-- company currency (GET /account-info/v3/details); a multi-currency portal sets it, and keeps
-- `amount_in_home_currency`, the amount converted to the company currency at its own rates.
-- Reading an unset code as "another currency" flagged every deal of most portals; now a deal
-- counts in the shop's currency when its own currency is the shop's (unset = the company
-- currency), or converted by HubSpot when the company currency is the shop's. Any other deal
-- is flagged, never summed.

ALTER TABLE core_warehouse.crm_deals
    ADD COLUMN company_currency text,             -- the portal's, set by every job
    ADD COLUMN amount_in_company_currency numeric; -- amount_in_home_currency

-- The deal's amount in its shop's currency, or NULL when it cannot be (another currency and no
-- conversion to the shop's): `amount` NULL counts as 0, as HubSpot's rollups count it.
CREATE FUNCTION storeline_private.hubspot_shop_amount(
    amount numeric, currency text, company_currency text, amount_in_company_currency numeric,
    shop_currency text
) RETURNS numeric
    LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT CASE
        WHEN coalesce(currency, company_currency) = shop_currency THEN coalesce(amount, 0)
        WHEN company_currency = shop_currency
             AND (amount IS NULL OR amount_in_company_currency IS NOT NULL)
            THEN coalesce(amount_in_company_currency, 0)
    END
$$;

-- Same columns as before (revision 0014), plus `converted_deals`: open deals counted through
-- HubSpot's conversion to the company currency. `other_currency_deals` are the flagged ones.
DROP VIEW reporting.pipeline_summary;
CREATE VIEW reporting.pipeline_summary WITH (security_invoker = true) AS
WITH deals AS (
    SELECT d.shop_id, d.pipeline_id, d.stage_id, d.deal_id,
           coalesce(d.currency, d.company_currency) AS currency,
           storeline_private.hubspot_shop_amount(d.amount, d.currency, d.company_currency,
                                                 d.amount_in_company_currency, s.currency::text)
               AS shop_amount
    FROM core_warehouse.crm_deals AS d
    JOIN app_dashboard.shops AS s ON s.id = d.shop_id
    WHERE NOT d.archived
)
SELECT st.shop_id, st.pipeline_id, st.pipeline_label, st.stage_id, st.stage_label,
       st.stage_order, st.probability, s.currency::text AS currency,
       count(d.deal_id) AS open_deals,
       coalesce(sum(d.shop_amount), 0) AS open_amount,
       coalesce(sum(d.shop_amount * coalesce(st.probability, 0)), 0) AS weighted_amount,
       count(d.deal_id) FILTER (WHERE d.shop_amount IS NULL) AS other_currency_deals,
       count(d.deal_id) FILTER (WHERE d.shop_amount IS NOT NULL
                                  AND d.currency IS DISTINCT FROM s.currency::text)
           AS converted_deals
FROM core_warehouse.crm_pipeline_stages AS st
JOIN app_dashboard.shops AS s ON s.id = st.shop_id
LEFT JOIN deals AS d
    ON d.shop_id = st.shop_id AND d.pipeline_id = st.pipeline_id AND d.stage_id = st.stage_id
WHERE NOT st.is_closed AND NOT st.archived
GROUP BY st.shop_id, st.pipeline_id, st.pipeline_label, st.stage_id, st.stage_label,
         st.stage_order, st.probability, s.currency;
GRANT SELECT ON reporting.pipeline_summary TO authenticated;

-- Same columns as before, the won amount through hubspot_shop_amount.
DROP VIEW reporting.pipeline_daily;
CREATE VIEW reporting.pipeline_daily WITH (security_invoker = true) AS
WITH deals AS (
    SELECT d.shop_id, d.created_at, d.close_date, s.timezone,
           storeline_private.hubspot_shop_amount(d.amount, d.currency, d.company_currency,
                                                 d.amount_in_company_currency, s.currency::text)
               AS shop_amount,
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
           CASE WHEN is_won THEN coalesce(shop_amount, 0) ELSE 0 END,
           (is_won AND shop_amount IS NULL)::int
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
