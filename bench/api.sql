-- bench/api.py's data and its from-the-facts reads. Seeded as the database owner; every read
-- runs as `authenticated` under RLS, like the API's.

-- name: seed_tenancy
-- $1 shops, $2 owner id. One agency whose owner is linked to every shop; each shop has Shopify,
-- Meta and GA4 connected and synced a minute ago (reporting.sync_status sees them).
WITH agency AS (
    INSERT INTO app_dashboard.agencies (name) VALUES ('Bench agency') RETURNING id
),
owner AS (
    INSERT INTO app_dashboard.users (id, email, role, agency_id)
    SELECT $2::uuid, 'owner@bench.test', 'AGENCY_OWNER', id FROM agency
    RETURNING id, agency_id
),
shops AS (
    INSERT INTO app_dashboard.shops (id, name, currency, timezone, agency_id)
    SELECT format('bench-%s.myshopify.com', lpad(i::text, 3, '0')), format('Bench %s', i),
           (ARRAY['USD', 'EUR', 'GBP', 'AUD'])[1 + i % 4],
           (ARRAY['America/New_York', 'Europe/Berlin', 'Europe/London', 'Australia/Sydney',
                  'America/Los_Angeles', 'Asia/Tokyo'])[1 + i % 6],
           o.agency_id
    FROM generate_series(1, $1::integer) AS i, owner AS o
    RETURNING id
),
links AS (
    INSERT INTO app_dashboard.user_shops (user_id, shop_id, is_default)
    SELECT $2::uuid, s.id, s.id = 'bench-001.myshopify.com' FROM shops AS s
),
credentials AS (
    INSERT INTO app_dashboard.shop_credentials (shop_id, platform, key_id, ciphertext)
    SELECT s.id, p, 'bench', '\x00'::bytea
    FROM shops AS s, unnest(ARRAY['SHOPIFY', 'META', 'GA4']) AS p
)
INSERT INTO app_dashboard.sync_cursors (shop_id, platform, last_success_at)
SELECT s.id, p::app_dashboard.platform, now() - interval '1 minute'
FROM shops AS s, unnest(ARRAY['SHOPIFY', 'META', 'GA4']) AS p

-- name: seed_orders
-- $1 days of history ending yesterday, $2 orders per shop and day; one line and one shipping
-- line each.
INSERT INTO core_warehouse.orders
    (shop_id, id, name, created_at, processed_at, processed_date, updated_at, currency,
     taxes_included, financial_status, total_price, current_total_price, raw, sync_job_id)
SELECT s.id, d * 100 + k, format('#%s', d * 100 + k), ts, ts, day, ts, s.currency::text, false,
       'paid', 40 + k, 40 + k, '{}', 0
FROM app_dashboard.shops AS s,
     generate_series(1, $1::integer) AS d,
     generate_series(1, $2::integer) AS k,
     LATERAL (SELECT current_date - d AS day) AS dd,
     LATERAL (SELECT (dd.day + time '12:00') AT TIME ZONE s.timezone AS ts) AS t

-- name: seed_lines
INSERT INTO core_warehouse.order_line_items
    (shop_id, id, order_id, quantity, original_unit_price, original_total, total_discount,
     discounted_total, total_tax, raw, sync_job_id)
SELECT o.shop_id, o.id, o.id, 1, 30 + o.id % 7, 30 + o.id % 7, o.id % 3, 30 + o.id % 7 - o.id % 3,
       3, '{}', 0
FROM core_warehouse.orders AS o

-- name: seed_shipping
INSERT INTO core_warehouse.order_shipping_lines
    (shop_id, id, order_id, original_price, total_discount, discounted_price, total_tax, raw,
     sync_job_id)
SELECT o.shop_id, o.id, o.id, 5, 0, 5, 0.5, '{}', 0
FROM core_warehouse.orders AS o

-- name: seed_rollup
-- The rollup as the worker builds it (reporting.shopify_daily_kpis over every day).
INSERT INTO reporting.shop_daily_kpis
    (shop_id, day, orders, gross_sales, discounts, returns, net_sales, shipping, taxes, duties,
     additional_fees, total_sales)
SELECT s.id, k.day, k.orders, k.gross_sales, k.discounts, k.returns, k.net_sales, k.shipping,
       k.taxes, k.duties, k.additional_fees, k.total_sales
FROM app_dashboard.shops AS s
CROSS JOIN LATERAL reporting.shopify_daily_kpis(
    s.id, ARRAY(SELECT current_date - d FROM generate_series(1, $1::integer) AS d)) AS k

-- name: seed_marketing
INSERT INTO core_warehouse.fact_marketing_daily
    (shop_id, platform, day, currency, spend, impressions, clicks, purchases, purchase_value)
SELECT s.id, 'META', current_date - d, s.currency::text, 20 + d % 11, 5000, 80, 2, 90 + d % 13
FROM app_dashboard.shops AS s, generate_series(1, $1::integer) AS d

-- name: seed_traffic
INSERT INTO core_warehouse.fact_web_traffic_day_totals
    (shop_id, property_id, day, property_timezone, currency, sessions, users, new_users,
     engaged_sessions, transactions, purchase_revenue, final, sync_job_id)
SELECT s.id, '300000001', current_date - d, s.timezone, s.currency::text, 900 + d % 50,
       700, 300, 500, 2, 80, true, 0
FROM app_dashboard.shops AS s, generate_series(1, $1::integer) AS d

-- name: facts_kpis
-- What metrics_kpis (storeline/core/sql/reporting/queries/api_metrics.sql) answers, computed
-- straight from the warehouse facts instead of the rollup: $1 shop ids, $2 first days, $3 last
-- days. Orders, lines and shipping as reporting.shopify_daily_kpis sums them for these orders
-- (no tax-inclusive prices, refunds or duties are seeded); spend and traffic from their facts.
WITH ranges AS (
    SELECT r.shop_id, r.day_from, r.day_to
    FROM unnest($1::text[], $2::date[], $3::date[]) AS r(shop_id, day_from, day_to)
),
live AS (
    SELECT r.shop_id, o.id
    FROM ranges AS r
    JOIN core_warehouse.orders AS o
      ON o.shop_id = r.shop_id AND o.processed_date BETWEEN r.day_from AND r.day_to
     AND NOT o.test AND o.deleted_at IS NULL
),
orders AS (SELECT l.shop_id, count(*)::integer AS orders FROM live AS l GROUP BY l.shop_id),
lines AS (
    SELECT l.shop_id, sum(li.original_total) AS gross_sales, sum(li.total_discount) AS discounts,
           sum(li.total_tax) AS taxes
    FROM live AS l
    JOIN core_warehouse.order_line_items AS li ON li.shop_id = l.shop_id AND li.order_id = l.id
    WHERE NOT li.is_gift_card
    GROUP BY l.shop_id
),
shipping AS (
    SELECT l.shop_id, sum(sl.discounted_price) AS shipping, sum(sl.total_tax) AS taxes
    FROM live AS l
    JOIN core_warehouse.order_shipping_lines AS sl ON sl.shop_id = l.shop_id AND sl.order_id = l.id
    GROUP BY l.shop_id
),
marketing AS (
    SELECT r.shop_id, sum(f.spend) AS ad_spend
    FROM ranges AS r
    JOIN core_warehouse.fact_marketing_daily AS f
      ON f.shop_id = r.shop_id AND f.day BETWEEN r.day_from AND r.day_to
    GROUP BY r.shop_id
),
traffic AS (
    SELECT r.shop_id, sum(t.sessions)::bigint AS sessions
    FROM ranges AS r
    JOIN core_warehouse.fact_web_traffic_day_totals AS t
      ON t.shop_id = r.shop_id AND t.day BETWEEN r.day_from AND r.day_to
    GROUP BY r.shop_id
)
SELECT r.shop_id, coalesce(o.orders, 0) AS orders,
       coalesce(li.gross_sales, 0) - coalesce(li.discounts, 0) + coalesce(sh.shipping, 0)
           + coalesce(li.taxes, 0) + coalesce(sh.taxes, 0) AS total_sales,
       m.ad_spend, t.sessions
FROM ranges AS r
LEFT JOIN orders AS o ON o.shop_id = r.shop_id
LEFT JOIN lines AS li ON li.shop_id = r.shop_id
LEFT JOIN shipping AS sh ON sh.shop_id = r.shop_id
LEFT JOIN marketing AS m ON m.shop_id = r.shop_id
LEFT JOIN traffic AS t ON t.shop_id = r.shop_id
