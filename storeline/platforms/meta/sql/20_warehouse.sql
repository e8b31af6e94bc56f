-- Meta facts. Ad × account-local day, as insights reports it at level=ad, time_increment=1:
-- additive measures (spend, impressions, clicks, conversions) and the ad-day's own reach and
-- frequency, which are de-duplicated counts: never summed across ads, days or campaigns
-- (docs/platforms/meta.md). Conversions count the explicit action types the connector's settings
-- name (never a pattern); the full `actions` / `action_values` and the row's attribution setting
-- are kept. Money is in the ad account's currency (`currency`), which may differ from the shop's.
CREATE TABLE core_warehouse.fact_marketing_campaign_daily (
    shop_id             text NOT NULL,
    platform            text NOT NULL,
    account_id          text NOT NULL,
    ad_id               text NOT NULL,
    day                 date NOT NULL,
    campaign_id         text,
    campaign_name       text,
    adset_id            text,
    adset_name          text,
    ad_name             text,
    objective           text,
    buying_type         text,
    attribution_setting text,
    currency            text NOT NULL,
    account_timezone    text,
    spend               numeric NOT NULL DEFAULT 0,
    impressions         bigint NOT NULL DEFAULT 0,
    clicks              bigint NOT NULL DEFAULT 0,
    inline_link_clicks  bigint NOT NULL DEFAULT 0,
    reach               bigint,
    frequency           numeric,
    cpc                 numeric,
    cpm                 numeric,
    ctr                 numeric,
    purchases           numeric NOT NULL DEFAULT 0,
    purchase_value      numeric NOT NULL DEFAULT 0,
    add_to_cart         numeric NOT NULL DEFAULT 0,
    initiate_checkout   numeric NOT NULL DEFAULT 0,
    view_content        numeric NOT NULL DEFAULT 0,
    leads               numeric NOT NULL DEFAULT 0,
    actions             jsonb,
    action_values       jsonb,
    raw                 jsonb NOT NULL,
    sync_job_id         bigint NOT NULL,
    updated_at          timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (shop_id, platform, account_id, day, ad_id)
);
SELECT storeline_private.enable_shop_rls('core_warehouse.fact_marketing_campaign_daily');

-- Shop × platform × day × currency: the additive measures summed over every ad (no reach: it
-- does not add up). One row per currency, so accounts in different currencies are never summed.
-- Restatement as data: `changed_at` is when a sync last found the day's figures different (Meta
-- keeps attributing conversions to a day for weeks), `final_at` when a sync first read the day
-- after its attribution window had closed; every pulled version stays in staging.
CREATE TABLE core_warehouse.fact_marketing_daily (
    shop_id        text NOT NULL,
    platform       text NOT NULL,
    day            date NOT NULL,
    currency       text NOT NULL,
    spend          numeric NOT NULL DEFAULT 0,
    impressions    bigint NOT NULL DEFAULT 0,
    clicks         bigint NOT NULL DEFAULT 0,
    purchases      numeric NOT NULL DEFAULT 0,
    purchase_value numeric NOT NULL DEFAULT 0,
    refreshed_at   timestamptz NOT NULL DEFAULT now(),
    changed_at     timestamptz NOT NULL DEFAULT now(),
    final_at       timestamptz,
    PRIMARY KEY (shop_id, platform, day, currency)
);
SELECT storeline_private.enable_shop_rls('core_warehouse.fact_marketing_daily');

-- What the dashboard reads: per shop, platform and day, with whether the money is in the shop's
-- currency (only then does it enter MER and ROAS next to the shop's revenue).
CREATE VIEW reporting.marketing_daily WITH (security_invoker = true) AS
SELECT f.shop_id, f.platform, f.day, f.currency, f.currency = s.currency::text AS in_shop_currency,
       f.spend, f.impressions, f.clicks, f.purchases, f.purchase_value,
       round(f.purchase_value / nullif(f.spend, 0), 2) AS roas, f.changed_at, f.final_at
FROM core_warehouse.fact_marketing_daily AS f
JOIN app_dashboard.shops AS s ON s.id = f.shop_id;
GRANT SELECT ON reporting.marketing_daily TO authenticated;
