-- A warehouse written straight into core_warehouse (no source sync): what the BigQuery mirror
-- tests and bench/bigquery.py export. Deterministic from its parameters.

-- name: world_agency
INSERT INTO app_dashboard.agencies (id, name)
VALUES ('cccccccc-0000-0000-0000-000000000000', 'Mirror agency')
ON CONFLICT DO NOTHING

-- name: world_shop
-- $1 shop id, $2 orders, $3 currency, $4 timezone. Orders over the 400 days before 2026-11-01,
-- two line items, one shipping line and one transaction each; every tenth order has a refund
-- with a refund line item; one customer per 3 orders; 30 days of ads, traffic and KPIs;
-- a small CRM.
WITH shop AS (
    INSERT INTO app_dashboard.shops (id, name, currency, timezone, agency_id)
    VALUES ($1, upper(split_part($1, '.', 1)), $3, $4, 'cccccccc-0000-0000-0000-000000000000')
    RETURNING id
),
orders AS (
    INSERT INTO core_warehouse.orders
        (shop_id, id, name, created_at, processed_at, processed_date, updated_at, currency,
         tags, subtotal_price, total_discounts, total_shipping_price, total_tax, total_price,
         customer_id, financial_status, raw, sync_job_id)
    SELECT $1, g, '#' || g, ts, ts, (ts AT TIME ZONE $4)::date, ts, $3,
           ARRAY['tag' || (g % 3)], 20.00 + g % 50, 1.50, 4.95, 2.10, 25.55 + g % 50,
           g / 3, 'PAID', '{}'::jsonb, 1
    FROM generate_series(1, $2::int) AS g,
         LATERAL (SELECT timestamptz '2026-11-01 00:00+00'
                         - make_interval(mins => (g * 577) % (400 * 24 * 60)) AS ts) AS t
    RETURNING id
),
lines AS (
    INSERT INTO core_warehouse.order_line_items
        (shop_id, id, order_id, title, sku, quantity, original_unit_price, original_total,
         total_discount, discounted_total, total_tax, raw, sync_job_id)
    SELECT $1, o.id * 10 + k, o.id, 'Item ' || k, 'SKU-' || (o.id % 97), k,
           10.123456789012, 10.12 * k, 0.75, 10.12 * k - 0.75, 1.05, '{}'::jsonb, 1
    FROM orders AS o, generate_series(1, 2) AS k
    RETURNING order_id
),
shipping AS (
    INSERT INTO core_warehouse.order_shipping_lines
        (shop_id, id, order_id, title, original_price, total_discount, discounted_price,
         total_tax, raw, sync_job_id)
    SELECT $1, o.id * 10, o.id, 'Standard', 4.95, 0, 4.95, 0, '{}'::jsonb, 1 FROM orders AS o
    RETURNING order_id
),
transactions AS (
    INSERT INTO core_warehouse.transactions
        (shop_id, id, order_id, kind, status, amount, currency, raw, sync_job_id)
    SELECT $1, o.id * 10, o.id, 'SALE', 'SUCCESS', 25.55, $3, '{}'::jsonb, 1 FROM orders AS o
    RETURNING order_id
),
refunds AS (
    INSERT INTO core_warehouse.refunds
        (shop_id, id, order_id, created_at, refund_date, total_refunded, raw, sync_job_id)
    SELECT $1, o.id * 10, o.id, timestamptz '2026-11-01 12:00+00', date '2026-11-01', 10.12,
           '{}'::jsonb, 1
    FROM orders AS o WHERE o.id % 10 = 0
    RETURNING id, order_id
),
refund_lines AS (
    INSERT INTO core_warehouse.refund_line_items
        (shop_id, id, refund_id, order_id, line_item_id, quantity, subtotal, total_tax, raw,
         sync_job_id)
    SELECT $1, r.id, r.id, r.order_id, r.order_id * 10 + 1, 1, 10.12, 1.05, '{}'::jsonb, 1
    FROM refunds AS r
    RETURNING id
),
customers AS (
    INSERT INTO core_warehouse.customers
        (shop_id, id, email, created_at, updated_at, number_of_orders, amount_spent, currency,
         raw, sync_job_id)
    SELECT $1, c, 'c' || c || '@example.test', timestamptz '2025-01-01 00:00+00'
               + make_interval(days => c % 300), timestamptz '2026-01-01 00:00+00', 3,
           76.65, $3, '{}'::jsonb, 1
    FROM generate_series(0, $2::int / 3) AS c
    RETURNING id
),
ads AS (
    INSERT INTO core_warehouse.fact_marketing_campaign_daily
        (shop_id, platform, account_id, ad_id, day, campaign_id, campaign_name, currency,
         spend, impressions, clicks, purchases, purchase_value, actions, raw, sync_job_id)
    SELECT $1, 'META', 'act_1', 'ad_' || a, d, 'c1', 'Campaign', $3, 12.34 + a, 1000, 20, 1,
           60.00, '[{"action_type": "omni_purchase", "value": "1"}]'::jsonb, '{}'::jsonb, 1
    FROM generate_series(date '2026-10-02', date '2026-10-31', interval '1 day') AS d,
         generate_series(1, 2) AS a
    RETURNING day
),
ads_daily AS (
    INSERT INTO core_warehouse.fact_marketing_daily
        (shop_id, platform, day, currency, spend, impressions, clicks, purchases, purchase_value)
    SELECT $1, 'META', d, $3, 27.68, 2000, 40, 2, 120.00
    FROM generate_series(date '2026-10-02', date '2026-10-31', interval '1 day') AS d
    RETURNING day
),
traffic AS (
    INSERT INTO core_warehouse.fact_web_traffic_daily
        (shop_id, property_id, day, channel_group, source, medium, device, currency, sessions,
         engaged_sessions, transactions, purchase_revenue, sync_job_id)
    SELECT $1, 'p1', d, 'Organic Search', 'google', 'organic', 'desktop', $3, 100, 60, 3,
           90.00, 1
    FROM generate_series(date '2026-10-02', date '2026-10-31', interval '1 day') AS d
    RETURNING day
),
traffic_totals AS (
    INSERT INTO core_warehouse.fact_web_traffic_day_totals
        (shop_id, property_id, day, property_timezone, currency, sessions, users, new_users,
         engaged_sessions, transactions, purchase_revenue, sync_job_id)
    SELECT $1, 'p1', d, $4, $3, 100, 80, 20, 60, 3, 90.00, 1
    FROM generate_series(date '2026-10-02', date '2026-10-31', interval '1 day') AS d
    RETURNING day
),
kpis AS (
    INSERT INTO reporting.shop_daily_kpis
        (shop_id, day, orders, gross_sales, discounts, net_sales, shipping, taxes, total_sales)
    SELECT $1, d, 7, 300.00, 10.00, 290.00, 20.00, 15.00, 325.00
    FROM generate_series(date '2026-10-02', date '2026-10-31', interval '1 day') AS d
    RETURNING day
),
stages AS (
    INSERT INTO core_warehouse.crm_pipeline_stages
        (shop_id, pipeline_id, stage_id, pipeline_label, stage_label, stage_order, probability,
         is_closed, raw, sync_job_id)
    VALUES ($1, 'default', 'open', 'Sales', 'Open', 1, 0.2, false, '{}'::jsonb, 1),
           ($1, 'default', 'won', 'Sales', 'Won', 2, 1, true, '{}'::jsonb, 1)
    RETURNING stage_id
),
deals AS (
    INSERT INTO core_warehouse.crm_deals
        (shop_id, deal_id, deal_name, pipeline_id, stage_id, amount, currency, close_date,
         is_closed_won, contact_ids, created_at, updated_at, raw, sync_job_id)
    SELECT $1, 'd' || k, 'Deal ' || k, 'default', CASE WHEN k % 2 = 0 THEN 'won' ELSE 'open' END,
           100 * k, $3, CASE WHEN k % 2 = 0 THEN timestamptz '2026-10-20 10:00+00' END,
           k % 2 = 0, ARRAY['ct' || k], timestamptz '2026-10-01 10:00+00',
           timestamptz '2026-10-21 10:00+00', '{}'::jsonb, 1
    FROM generate_series(1, 4) AS k
    RETURNING deal_id
),
contacts AS (
    INSERT INTO core_warehouse.crm_contacts
        (shop_id, contact_id, email, created_at, updated_at, raw, sync_job_id)
    SELECT $1, 'ct' || k, 'ct' || k || '@example.test', timestamptz '2026-09-01 10:00+00',
           timestamptz '2026-09-01 10:00+00', '{}'::jsonb, 1
    FROM generate_series(1, 4) AS k
    RETURNING contact_id
),
companies AS (
    INSERT INTO core_warehouse.crm_companies
        (shop_id, company_id, name, created_at, updated_at, raw, sync_job_id)
    VALUES ($1, 'co1', 'Company', timestamptz '2026-09-01 10:00+00',
            timestamptz '2026-09-01 10:00+00', '{}'::jsonb, 1)
    RETURNING company_id
)
SELECT (SELECT count(*) FROM orders) AS orders, (SELECT count(*) FROM lines) AS lines,
       (SELECT count(*) FROM shipping) + (SELECT count(*) FROM transactions)
       + (SELECT count(*) FROM refunds) + (SELECT count(*) FROM refund_lines)
       + (SELECT count(*) FROM customers) + (SELECT count(*) FROM ads)
       + (SELECT count(*) FROM ads_daily) + (SELECT count(*) FROM traffic)
       + (SELECT count(*) FROM traffic_totals) + (SELECT count(*) FROM kpis)
       + (SELECT count(*) FROM stages) + (SELECT count(*) FROM deals)
       + (SELECT count(*) FROM contacts) + (SELECT count(*) FROM companies) AS others

-- name: world_touch_orders
-- An incremental that changed every $2-th order of shop $1 (and, as the Shopify transform does,
-- rewrote its children): returns the orders touched.
WITH touched AS (
    UPDATE core_warehouse.orders AS o
    SET updated_at = o.updated_at + interval '1 hour', financial_status = 'PARTIALLY_REFUNDED',
        total_refunded = 5.00, sync_job_id = 2
    WHERE o.shop_id = $1 AND o.id % $2::int = 0
    RETURNING o.id
),
lines AS (
    UPDATE core_warehouse.order_line_items AS l
    SET current_quantity = l.quantity - 1, sync_job_id = 2
    FROM touched AS t
    WHERE l.shop_id = $1 AND l.order_id = t.id
)
SELECT count(*) FROM touched
