-- Campaign totals per shop, platform and day: what "top campaigns for a range" reads, so the
-- API sums a few rows per campaign and day instead of every ad's (an account with 500 ads has
-- about a hundred times more ad-day facts than campaign-days). The Meta transform refreshes the
-- days it re-pulled (meta_fill_campaigns in sql/queries/meta.sql), together with
-- fact_marketing_daily, in the same fenced transaction.
CREATE TABLE reporting.campaign_daily (
    shop_id        text NOT NULL,
    platform       text NOT NULL,
    day            date NOT NULL,
    campaign_id    text NOT NULL,
    currency       text NOT NULL,
    campaign_name  text,
    spend          numeric NOT NULL DEFAULT 0,
    impressions    bigint NOT NULL DEFAULT 0,
    clicks         bigint NOT NULL DEFAULT 0,
    purchases      numeric NOT NULL DEFAULT 0,
    purchase_value numeric NOT NULL DEFAULT 0,
    refreshed_at   timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (shop_id, platform, day, campaign_id, currency)
);
SELECT storeline_private.enable_shop_rls('reporting.campaign_daily');

INSERT INTO reporting.campaign_daily (
    shop_id, platform, day, campaign_id, currency, campaign_name, spend, impressions, clicks,
    purchases, purchase_value)
SELECT shop_id, platform, day, campaign_id, currency, max(campaign_name), sum(spend),
       sum(impressions), sum(clicks), sum(purchases), sum(purchase_value)
FROM core_warehouse.fact_marketing_campaign_daily
WHERE campaign_id IS NOT NULL
GROUP BY shop_id, platform, day, campaign_id, currency;
