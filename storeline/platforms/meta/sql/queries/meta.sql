-- The Meta connector's statements (storeline/platforms/meta/connector.py).

-- name: meta_delete_days
-- The days this job re-pulled are replaced, not merged: $1 shop, $2 account ids, $3 first days,
-- $4 last days (parallel arrays). An ad that delivered nothing on a re-pulled day disappears.
DELETE FROM core_warehouse.fact_marketing_campaign_daily AS f
USING unnest($2::text[], $3::date[], $4::date[]) AS r(account_id, since, until)
WHERE f.shop_id = $1 AND f.platform = 'META' AND f.account_id = r.account_id
  AND f.day BETWEEN r.since AND r.until

-- name: meta_insert_rows
-- The job's staged insights rows, the newest line per (account, ad, day) (a retried chunk is
-- staged again). $1 shop, $2 job, $3 purchase action types, $4 add-to-cart, $5 checkout,
-- $6 view content, $7 lead types. Returns the distinct days written (not one row per fact: a
-- backfill writes hundreds of thousands).
WITH accounts AS (
    SELECT DISTINCT ON (account_id) account_id, payload ->> 'timezone_name' AS timezone
    FROM staging_ingest.meta_insights_raw
    WHERE sync_job_id = $2 AND kind = 'account'
    ORDER BY account_id, line_no DESC
),
latest AS (
    SELECT DISTINCT ON (account_id, payload ->> 'ad_id', payload ->> 'date_start')
           account_id, payload
    FROM staging_ingest.meta_insights_raw
    WHERE sync_job_id = $2 AND kind = 'insight'
    ORDER BY account_id, payload ->> 'ad_id', payload ->> 'date_start', line_no DESC
),
written AS (
INSERT INTO core_warehouse.fact_marketing_campaign_daily AS f (
    shop_id, platform, account_id, ad_id, day, campaign_id, campaign_name, adset_id, adset_name,
    ad_name, objective, buying_type, attribution_setting, currency, account_timezone, spend,
    impressions, clicks, inline_link_clicks, reach, frequency, cpc, cpm, ctr, purchases,
    purchase_value, add_to_cart, initiate_checkout, view_content, leads, actions, action_values,
    raw, sync_job_id)
SELECT $1, 'META', l.account_id, p ->> 'ad_id', (p ->> 'date_start')::date,
       p ->> 'campaign_id', p ->> 'campaign_name', p ->> 'adset_id', p ->> 'adset_name',
       p ->> 'ad_name', p ->> 'objective', p ->> 'buying_type', p ->> 'attribution_setting',
       p ->> 'account_currency', a.timezone,
       coalesce((p ->> 'spend')::numeric, 0), coalesce((p ->> 'impressions')::bigint, 0),
       coalesce((p ->> 'clicks')::bigint, 0), coalesce((p ->> 'inline_link_clicks')::bigint, 0),
       (p ->> 'reach')::bigint, (p ->> 'frequency')::numeric, (p ->> 'cpc')::numeric,
       (p ->> 'cpm')::numeric, (p ->> 'ctr')::numeric,
       storeline_private.meta_action_sum(p -> 'actions', $3::text[]),
       storeline_private.meta_action_sum(p -> 'action_values', $3::text[]),
       storeline_private.meta_action_sum(p -> 'actions', $4::text[]),
       storeline_private.meta_action_sum(p -> 'actions', $5::text[]),
       storeline_private.meta_action_sum(p -> 'actions', $6::text[]),
       storeline_private.meta_action_sum(p -> 'actions', $7::text[]),
       p -> 'actions', p -> 'action_values', p, $2
FROM latest AS l
CROSS JOIN LATERAL (SELECT l.payload AS p) AS x
LEFT JOIN accounts AS a ON a.account_id = l.account_id
WHERE p ->> 'ad_id' IS NOT NULL
ON CONFLICT (shop_id, platform, account_id, day, ad_id) DO UPDATE SET
    campaign_id = excluded.campaign_id, campaign_name = excluded.campaign_name,
    adset_id = excluded.adset_id, adset_name = excluded.adset_name, ad_name = excluded.ad_name,
    objective = excluded.objective, buying_type = excluded.buying_type,
    attribution_setting = excluded.attribution_setting, currency = excluded.currency,
    account_timezone = excluded.account_timezone, spend = excluded.spend,
    impressions = excluded.impressions, clicks = excluded.clicks,
    inline_link_clicks = excluded.inline_link_clicks, reach = excluded.reach,
    frequency = excluded.frequency, cpc = excluded.cpc, cpm = excluded.cpm, ctr = excluded.ctr,
    purchases = excluded.purchases, purchase_value = excluded.purchase_value,
    add_to_cart = excluded.add_to_cart, initiate_checkout = excluded.initiate_checkout,
    view_content = excluded.view_content, leads = excluded.leads, actions = excluded.actions,
    action_values = excluded.action_values, raw = excluded.raw,
    sync_job_id = excluded.sync_job_id, updated_at = now()
RETURNING f.day
)
SELECT DISTINCT day FROM written

-- name: meta_fill_daily
-- The shop's daily Meta rows for the days $2, summed from the ad-day facts ($1 shop); a day's
-- changed_at moves only when its figures did, final_at is set once the day is on or before $3
-- (the last day whose attribution window had closed when it was read).
INSERT INTO core_warehouse.fact_marketing_daily AS d (
    shop_id, platform, day, currency, spend, impressions, clicks, purchases, purchase_value,
    final_at)
SELECT f.shop_id, f.platform, f.day, f.currency, sum(f.spend), sum(f.impressions),
       sum(f.clicks), sum(f.purchases), sum(f.purchase_value),
       CASE WHEN f.day <= $3::date THEN now() END
FROM core_warehouse.fact_marketing_campaign_daily AS f
WHERE f.shop_id = $1 AND f.platform = 'META' AND f.day = ANY ($2::date[])
GROUP BY f.shop_id, f.platform, f.day, f.currency
ON CONFLICT (shop_id, platform, day, currency) DO UPDATE SET
    spend = excluded.spend, impressions = excluded.impressions, clicks = excluded.clicks,
    purchases = excluded.purchases, purchase_value = excluded.purchase_value,
    refreshed_at = now(),
    changed_at = CASE
        WHEN (d.spend, d.impressions, d.clicks, d.purchases, d.purchase_value) IS DISTINCT FROM
             (excluded.spend, excluded.impressions, excluded.clicks, excluded.purchases,
              excluded.purchase_value)
        THEN now() ELSE d.changed_at END,
    final_at = coalesce(d.final_at, excluded.final_at)

-- name: meta_drop_daily
-- Daily rows of the days $2 ($1 shop) that no ad-day fact backs any more (all restated away).
DELETE FROM core_warehouse.fact_marketing_daily AS d
WHERE d.shop_id = $1 AND d.platform = 'META' AND d.day = ANY ($2::date[])
  AND NOT EXISTS (
      SELECT FROM core_warehouse.fact_marketing_campaign_daily AS f
      WHERE f.shop_id = d.shop_id AND f.platform = d.platform AND f.day = d.day
        AND f.currency = d.currency)

-- name: meta_clear_campaigns
-- The campaign rollup rows of the days $2 ($1 shop), before meta_fill_campaigns writes them
-- again from the facts (a campaign restated away on a day loses its row).
DELETE FROM reporting.campaign_daily
WHERE shop_id = $1 AND platform = 'META' AND day = ANY ($2::date[])

-- name: meta_fill_campaigns
-- Campaign totals of the days $2 ($1 shop) from the ad-day facts (40_campaign_rollup.sql).
INSERT INTO reporting.campaign_daily (
    shop_id, platform, day, campaign_id, currency, campaign_name, spend, impressions, clicks,
    purchases, purchase_value)
SELECT f.shop_id, f.platform, f.day, f.campaign_id, f.currency, max(f.campaign_name),
       sum(f.spend), sum(f.impressions), sum(f.clicks), sum(f.purchases), sum(f.purchase_value)
FROM core_warehouse.fact_marketing_campaign_daily AS f
WHERE f.shop_id = $1 AND f.platform = 'META' AND f.day = ANY ($2::date[])
  AND f.campaign_id IS NOT NULL
GROUP BY f.shop_id, f.platform, f.day, f.campaign_id, f.currency
