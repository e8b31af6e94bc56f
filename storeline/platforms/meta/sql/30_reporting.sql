-- Each shop's Meta ad accounts as the last sync saw them, beside the shop: an account whose
-- currency differs is left out of MER and ROAS (never summed), one whose timezone differs has
-- its days on its own clock; both are shown, not hidden.
CREATE VIEW reporting.ad_accounts WITH (security_invoker = true) AS
SELECT DISTINCT ON (f.shop_id, f.platform, f.account_id)
       f.shop_id, f.platform, f.account_id, f.currency, f.account_timezone AS timezone,
       f.currency = s.currency::text AS currency_matches_shop,
       f.account_timezone = s.timezone AS timezone_matches_shop,
       f.day AS last_day
FROM core_warehouse.fact_marketing_campaign_daily AS f
JOIN app_dashboard.shops AS s ON s.id = f.shop_id
ORDER BY f.shop_id, f.platform, f.account_id, f.day DESC;
GRANT SELECT ON reporting.ad_accounts TO authenticated;
