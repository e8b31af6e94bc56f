-- Shopify's own sales report beside the product's figures (issue 13, items 3 and 4;
-- docs/shopify-sales-report.md, "Reconciliation"). The connector reads Shopify's daily figures
-- with shopifyqlQuery (storeline/platforms/shopify/sales_report.py):
--   * after each sync, for the days the sync touched (reconcile.py): the comparison view shows
--     per shop and day whether Shopify and the product agree and by how much;
--   * when a shop has no order-level data yet, its whole recent history at once (provisional.py):
--     dashboards show those figures, marked provisional, until the backfill lands.

-- Shopify's figures per shop-local day, in the product's signs (discounts and returns
-- positive). duties / additional_fees are NULL when ShopifyQL did not answer those columns.
CREATE TABLE reporting.shopify_reported_daily (
    shop_id         text NOT NULL,
    day             date NOT NULL,
    orders          integer NOT NULL,
    gross_sales     numeric NOT NULL,
    discounts       numeric NOT NULL,
    returns         numeric NOT NULL,
    net_sales       numeric NOT NULL,
    shipping        numeric NOT NULL,
    duties          numeric,
    additional_fees numeric,
    taxes           numeric NOT NULL,
    total_sales     numeric NOT NULL,
    fetched_at      timestamptz NOT NULL DEFAULT now(),
    sync_job_id     bigint,
    PRIMARY KEY (shop_id, day)
);
SELECT storeline_private.enable_shop_rls('reporting.shopify_reported_daily');

-- The latest reconciliation of each shop: 'checked' (Shopify's figures were read for
-- first_day..last_day), 'not_verified' (the token lacks read_reports) or 'failed' (reason says
-- why; the sync itself succeeded). A shop without a row was never checked.
CREATE TABLE reporting.shopify_report_checks (
    shop_id      text PRIMARY KEY,
    status       text NOT NULL CHECK (status IN ('checked', 'not_verified', 'failed')),
    reason       text,
    first_day    date,
    last_day     date,
    days_fetched integer NOT NULL DEFAULT 0,
    sync_job_id  bigint,
    checked_at   timestamptz NOT NULL DEFAULT now()
);
SELECT storeline_private.enable_shop_rls('reporting.shopify_report_checks');

-- How far the shop's order-level data reaches: the orders watermark (Shopify's clock) of the
-- last transform, written in the same transaction as its rollup. Days up to its shop-local day
-- are order-level; later days with a Shopify figure are provisional.
CREATE TABLE reporting.shopify_order_coverage (
    shop_id       text PRIMARY KEY,
    covered_until timestamptz NOT NULL,
    updated_at    timestamptz NOT NULL DEFAULT now()
);
SELECT storeline_private.enable_shop_rls('reporting.shopify_order_coverage');

-- Shops synced before this revision have order-level data already.
INSERT INTO reporting.shopify_order_coverage (shop_id, covered_until)
SELECT c.shop_id, c.last_success_at
FROM app_dashboard.sync_cursors AS c
WHERE c.platform = 'SHOPIFY' AND c.last_success_at IS NOT NULL;

-- Shopify's figures for days the shop's order-level data does not cover yet.
CREATE VIEW reporting.shopify_provisional_daily WITH (security_invoker = true) AS
SELECT r.*
FROM reporting.shopify_reported_daily AS r
JOIN app_dashboard.shops AS s ON s.id = r.shop_id
LEFT JOIN reporting.shopify_order_coverage AS c ON c.shop_id = r.shop_id
WHERE c.shop_id IS NULL OR r.day > (c.covered_until AT TIME ZONE s.timezone)::date;

GRANT SELECT ON reporting.shopify_provisional_daily TO authenticated;

-- What a dashboard shows per shop-day: the order-level rollup, or Shopify's own figure marked
-- provisional where order-level data does not reach yet. AOV as in reporting.daily_revenue.
CREATE VIEW reporting.daily_figures WITH (security_invoker = true) AS
SELECT f.*,
       CASE WHEN f.orders > 0 THEN round((f.gross_sales - f.discounts) / f.orders, 2) END AS aov
FROM (
    SELECT k.shop_id, k.day, k.orders, k.gross_sales, k.discounts, k.returns, k.net_sales,
           k.shipping, k.taxes, k.duties, k.additional_fees, k.return_fees, k.total_sales,
           false AS provisional
    FROM reporting.shop_daily_kpis AS k
    WHERE NOT EXISTS (
        SELECT 1 FROM reporting.shopify_provisional_daily AS p
        WHERE p.shop_id = k.shop_id AND p.day = k.day)
    UNION ALL
    SELECT p.shop_id, p.day, p.orders, p.gross_sales, p.discounts, p.returns, p.net_sales,
           p.shipping, p.taxes, coalesce(p.duties, 0), coalesce(p.additional_fees, 0),
           0::numeric, p.total_sales, true
    FROM reporting.shopify_provisional_daily AS p
) AS f;

GRANT SELECT ON reporting.daily_figures TO authenticated;

-- Shopify's figure against the product's, per shop and order-level day: `differences` holds
-- Shopify − Storeline, rounded to the cent, for every metric that differs (decimal strings;
-- less than half a cent is no difference), and `agrees` is true when none does. A day whose
-- rollup was refreshed after Shopify's figure was read is left out until the next check (the
-- comparison would be between two different moments); a day without a rollup row compares
-- with zeros.
CREATE VIEW reporting.shopify_report_comparison WITH (security_invoker = true) AS
SELECT r.shop_id, r.day, r.fetched_at, d.differences, d.differences = '{}'::jsonb AS agrees
FROM reporting.shopify_reported_daily AS r
JOIN app_dashboard.shops AS s ON s.id = r.shop_id
JOIN reporting.shopify_order_coverage AS c
  ON c.shop_id = r.shop_id AND r.day <= (c.covered_until AT TIME ZONE s.timezone)::date
LEFT JOIN reporting.shop_daily_kpis AS k ON k.shop_id = r.shop_id AND k.day = r.day
CROSS JOIN LATERAL (
    SELECT jsonb_strip_nulls(jsonb_build_object(
        'orders', nullif(r.orders - coalesce(k.orders, 0), 0)::text,
        'gross_sales', nullif(round(r.gross_sales - coalesce(k.gross_sales, 0), 2), 0)::text,
        'discounts', nullif(round(r.discounts - coalesce(k.discounts, 0), 2), 0)::text,
        'returns', nullif(round(r.returns - coalesce(k.returns, 0), 2), 0)::text,
        'net_sales', nullif(round(r.net_sales - coalesce(k.net_sales, 0), 2), 0)::text,
        'shipping', nullif(round(r.shipping - coalesce(k.shipping, 0), 2), 0)::text,
        'duties', nullif(round(r.duties - coalesce(k.duties, 0), 2), 0)::text,
        'additional_fees',
            nullif(round(r.additional_fees - coalesce(k.additional_fees, 0), 2), 0)::text,
        'taxes', nullif(round(r.taxes - coalesce(k.taxes, 0), 2), 0)::text,
        'total_sales', nullif(round(r.total_sales - coalesce(k.total_sales, 0), 2), 0)::text
    )) AS differences
) AS d
WHERE k.refreshed_at IS NULL OR k.refreshed_at <= r.fetched_at;

GRANT SELECT ON reporting.shopify_report_comparison TO authenticated;
