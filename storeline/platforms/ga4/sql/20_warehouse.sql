-- GA4 facts (docs/platforms/ga4.md). Days are the property's own days, in its timezone.

-- Property-day × channel group × source × medium × device: additive measures only, as a one-day
-- breakdown returns them. "(other)" rows are kept as rows (GA4 rolled the long tail into them).
-- No users here: users are not additive across these rows (they live in the day totals).
CREATE TABLE core_warehouse.fact_web_traffic_daily (
    shop_id          text NOT NULL,
    property_id      text NOT NULL,
    day              date NOT NULL,
    channel_group    text NOT NULL,
    source           text NOT NULL,
    medium           text NOT NULL,
    device           text NOT NULL,
    currency         text,
    sessions         bigint NOT NULL DEFAULT 0,
    engaged_sessions bigint NOT NULL DEFAULT 0,
    key_events       numeric NOT NULL DEFAULT 0,
    transactions     bigint NOT NULL DEFAULT 0,
    purchase_revenue numeric NOT NULL DEFAULT 0,
    sync_job_id      bigint NOT NULL,
    updated_at       timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (shop_id, property_id, day, channel_group, source, medium, device)
);
SELECT storeline_private.enable_shop_rls('core_warehouse.fact_web_traffic_daily');

-- Property-day totals from a date-only request: the day's de-duplicated users and new users
-- (never a sum of rows, and never to be summed across days as users), the additive measures as
-- GA4 totals them (on a thresholded property the breakdown can sum below them), and the day's
-- data-quality flags: (other) rows in its breakdown, thresholds, sampling, an empty reason, the
-- quota tokens its breakdown requests used, and whether GA4 still restates the day.
CREATE TABLE core_warehouse.fact_web_traffic_day_totals (
    shop_id                  text NOT NULL,
    property_id              text NOT NULL,
    day                      date NOT NULL,
    property_timezone        text,
    currency                 text,
    sessions                 bigint NOT NULL DEFAULT 0,
    users                    bigint NOT NULL DEFAULT 0,
    new_users                bigint NOT NULL DEFAULT 0,
    engaged_sessions         bigint NOT NULL DEFAULT 0,
    key_events               numeric NOT NULL DEFAULT 0,
    transactions             bigint NOT NULL DEFAULT 0,
    purchase_revenue         numeric NOT NULL DEFAULT 0,
    data_loss_from_other_row boolean NOT NULL DEFAULT false,
    subject_to_thresholding  boolean NOT NULL DEFAULT false,
    sampled                  boolean NOT NULL DEFAULT false,
    sampling                 jsonb,
    empty_reason             text,
    quota_tokens             integer NOT NULL DEFAULT 0,
    final                    boolean NOT NULL DEFAULT false,
    sync_job_id              bigint NOT NULL,
    updated_at               timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (shop_id, property_id, day)
);
SELECT storeline_private.enable_shop_rls('core_warehouse.fact_web_traffic_day_totals');

-- What the dashboard reads: a shop's traffic per day, with ratios computed per day from their
-- parts, whether the property's timezone is the shop's (if not, its days are not the shop's
-- days) and whether its revenue is in the shop's currency.
CREATE VIEW reporting.web_traffic_daily WITH (security_invoker = true) AS
SELECT t.shop_id, t.property_id, t.day, t.property_timezone,
       t.property_timezone IS NOT DISTINCT FROM s.timezone AS timezone_matches_shop,
       t.currency, t.currency IS NOT DISTINCT FROM s.currency::text AS in_shop_currency,
       t.sessions, t.users, t.new_users, t.engaged_sessions, t.key_events, t.transactions,
       t.purchase_revenue,
       round(t.engaged_sessions::numeric / nullif(t.sessions, 0), 4) AS engagement_rate,
       round(t.transactions::numeric / nullif(t.sessions, 0), 4) AS conversion_rate,
       t.data_loss_from_other_row, t.subject_to_thresholding, t.sampled, t.final
FROM core_warehouse.fact_web_traffic_day_totals AS t
JOIN app_dashboard.shops AS s ON s.id = t.shop_id;
GRANT SELECT ON reporting.web_traffic_daily TO authenticated;
