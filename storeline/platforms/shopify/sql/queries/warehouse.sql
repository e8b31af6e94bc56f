-- Shopify: staging_ingest.shopify_bulk_rows (one job's JSONL lines) → core_warehouse, set-based.
-- Called by storeline/platforms/shopify/transform.py in this order, inside the caller's
-- transaction. Parameters: $1 sync_job_id, $2 shop_id, $3 the shop's IANA timezone.
--
-- Line shapes accepted (bulk JSONL; paginated results are converted to the same shape):
--   Order lines: the order with transactions[] and refunds[] inline. An Order line without
--     createdAt (e.g. a nodes(ids:) result carrying only id + refunds) is a refund-details
--     carrier: its refunds are read, the order row is left alone.
--   LineItem / ShippingLine lines with __parentId = the Order gid, or the same nested in the
--     Order line as lineItems/shippingLines (a list, {nodes: […]} or {edges: [{node}]}).
--   Refund lines with __parentId = the Order gid; RefundLineItem / RefundShippingLine lines with
--     __parentId = the Refund gid, or nested in a refund as refundLineItems/refundShippingLines.
--   Customer lines (no parent).
-- Line order never matters: children are joined to parents by id after everything is loaded.
-- A gid seen twice in one job keeps its last line (highest line_no).
--
-- Replacement rule: a job carries whole orders. For every order the job wrote, its line items,
-- shipping lines, transactions and refunds are upserted and whatever the job did not carry is
-- deleted (an edit that removes a line removes the row). Refund line items and refund shipping
-- lines are replaced only for refunds whose details the job carried (the bulk file has refund
-- headers only), so a header-only job never erases details. An order is written only when the
-- job's version is not older than the stored one (updated_at), so a late re-run of an old job
-- cannot roll an order back; children follow their order's decision.
--
-- Money: shopMoney amounts (shop currency) as numeric; presentment money stays in `raw`.
-- Duties / additional fees: Order.original*/current*TotalDutiesSet and
-- original*/current*TotalAdditionalFeesSet; refunded duties: Σ Refund.duties (refund headers).
-- Derived figures use only fields that both the bulk and the paginated queries select:
--   line original_total   = originalUnitPrice × quantity            (gross sales)
--   line total_discount   = Σ discountAllocations.allocatedAmount   (line + order-level share)
--   line total_tax        = Σ taxLines.price
--   line is_gift_card     = isGiftCard (gift card lines are never sales: rule 5)
--   line duties_tax       = Σ duties.taxLines.price; order additional_fees_tax = Σ
--                           additionalFees.taxLines.price; refund duties_tax = Σ the refunded
--                           duties' originalDuty.taxLines.price (rule 11)
--   shipping total_discount = Σ its discountAllocations; discounted_price = original − that
-- Shop-local days: processed_date = processedAt (createdAt if absent) in the shop's timezone;
-- refund_date = refund createdAt in the shop's timezone.

-- name: shopify_touched_dates
-- Shop-local days the warehouse currently attributes to the job's orders (their processing day,
-- every refund day, every edit / return agreement day and return day). Run before and after the transform: the union is what moved.
WITH job_orders AS (
    SELECT DISTINCT s.object_id AS id
    FROM staging_ingest.shopify_bulk_rows AS s
    WHERE s.sync_job_id = $1 AND s.shop_id = $2 AND s.typename = 'Order'
)
SELECT o.processed_date AS day
FROM core_warehouse.orders AS o JOIN job_orders AS j ON o.id = j.id
WHERE o.shop_id = $2
UNION
SELECT r.refund_date
FROM core_warehouse.refunds AS r JOIN job_orders AS j ON r.order_id = j.id
WHERE r.shop_id = $2
UNION
SELECT x.sale_date
FROM core_warehouse.order_sales AS x JOIN job_orders AS j ON x.order_id = j.id
WHERE x.shop_id = $2
UNION
SELECT x.return_date
FROM core_warehouse.order_returns AS x JOIN job_orders AS j ON x.order_id = j.id
WHERE x.shop_id = $2;

-- name: shopify_upsert_orders
INSERT INTO core_warehouse.orders AS t (
    shop_id, id, name, created_at, processed_at, processed_date, updated_at, cancelled_at,
    cancel_reason, closed_at, test, email, customer_id, currency, presentment_currency,
    taxes_included, source_name, tags, note, financial_status, fulfillment_status,
    discount_codes, subtotal_price, total_discounts, total_shipping_price, total_tax,
    total_price, total_refunded, current_subtotal_price, current_total_discounts,
    current_total_tax, current_total_price, first_visit_source, first_utm_source,
    first_utm_medium, first_utm_campaign, last_visit_source, last_utm_source, last_utm_medium,
    last_utm_campaign, original_total_duties, current_total_duties,
    original_total_additional_fees, current_total_additional_fees, additional_fees_tax, raw,
    sync_job_id, synced_at)
SELECT DISTINCT ON (s.object_id)
    s.shop_id, s.object_id, r.name, r."createdAt",
    coalesce(r."processedAt", r."createdAt"),
    (coalesce(r."processedAt", r."createdAt") AT TIME ZONE $3)::date,
    coalesce(r."updatedAt", r."createdAt"), r."cancelledAt", r."cancelReason", r."closedAt",
    coalesce(r.test, false), r.email,
    storeline_private.shopify_gid_id(r.customer ->> 'id'),
    r."currencyCode", r."presentmentCurrencyCode", r."taxesIncluded", r."sourceName",
    coalesce(r.tags, '{}'), r.note, r."displayFinancialStatus", r."displayFulfillmentStatus",
    coalesce(r."discountCodes", '{}'),
    (r."subtotalPriceSet" -> 'shopMoney' ->> 'amount')::numeric,
    (r."totalDiscountsSet" -> 'shopMoney' ->> 'amount')::numeric,
    (r."totalShippingPriceSet" -> 'shopMoney' ->> 'amount')::numeric,
    (r."totalTaxSet" -> 'shopMoney' ->> 'amount')::numeric,
    (r."totalPriceSet" -> 'shopMoney' ->> 'amount')::numeric,
    (r."totalRefundedSet" -> 'shopMoney' ->> 'amount')::numeric,
    (r."currentSubtotalPriceSet" -> 'shopMoney' ->> 'amount')::numeric,
    (r."currentTotalDiscountsSet" -> 'shopMoney' ->> 'amount')::numeric,
    (r."currentTotalTaxSet" -> 'shopMoney' ->> 'amount')::numeric,
    (r."currentTotalPriceSet" -> 'shopMoney' ->> 'amount')::numeric,
    r."customerJourneySummary" -> 'firstVisit' ->> 'source',
    r."customerJourneySummary" -> 'firstVisit' -> 'utmParameters' ->> 'source',
    r."customerJourneySummary" -> 'firstVisit' -> 'utmParameters' ->> 'medium',
    r."customerJourneySummary" -> 'firstVisit' -> 'utmParameters' ->> 'campaign',
    r."customerJourneySummary" -> 'lastVisit' ->> 'source',
    r."customerJourneySummary" -> 'lastVisit' -> 'utmParameters' ->> 'source',
    r."customerJourneySummary" -> 'lastVisit' -> 'utmParameters' ->> 'medium',
    r."customerJourneySummary" -> 'lastVisit' -> 'utmParameters' ->> 'campaign',
    (r."originalTotalDutiesSet" -> 'shopMoney' ->> 'amount')::numeric,
    (r."currentTotalDutiesSet" -> 'shopMoney' ->> 'amount')::numeric,
    (r."originalTotalAdditionalFeesSet" -> 'shopMoney' ->> 'amount')::numeric,
    (r."currentTotalAdditionalFeesSet" -> 'shopMoney' ->> 'amount')::numeric,
    (SELECT coalesce(sum((t -> 'priceSet' -> 'shopMoney' ->> 'amount')::numeric), 0)
     FROM jsonb_array_elements(coalesce(r."additionalFees", '[]')) AS f
     CROSS JOIN jsonb_array_elements(coalesce(f -> 'taxLines', '[]')) AS t),
    s.payload, s.sync_job_id, now()
FROM staging_ingest.shopify_bulk_rows AS s
-- One detoast per line: every top-level field is extracted in a single pass.
CROSS JOIN LATERAL jsonb_to_record(s.payload) AS r(
    name text, "createdAt" timestamptz, "processedAt" timestamptz, "updatedAt" timestamptz,
    "cancelledAt" timestamptz, "cancelReason" text, "closedAt" timestamptz, test boolean,
    email text, customer jsonb, "currencyCode" text, "presentmentCurrencyCode" text,
    "taxesIncluded" boolean, "sourceName" text, tags text[], note text,
    "displayFinancialStatus" text, "displayFulfillmentStatus" text, "discountCodes" text[],
    "subtotalPriceSet" jsonb, "totalDiscountsSet" jsonb, "totalShippingPriceSet" jsonb,
    "totalTaxSet" jsonb, "totalPriceSet" jsonb, "totalRefundedSet" jsonb,
    "currentSubtotalPriceSet" jsonb, "currentTotalDiscountsSet" jsonb,
    "currentTotalTaxSet" jsonb, "currentTotalPriceSet" jsonb, "customerJourneySummary" jsonb,
    "originalTotalDutiesSet" jsonb, "currentTotalDutiesSet" jsonb,
    "originalTotalAdditionalFeesSet" jsonb, "currentTotalAdditionalFeesSet" jsonb,
    "additionalFees" jsonb)
WHERE s.sync_job_id = $1 AND s.shop_id = $2 AND s.typename = 'Order'
  AND s.object_id IS NOT NULL AND r."createdAt" IS NOT NULL
ORDER BY s.object_id, s.line_no DESC
ON CONFLICT (shop_id, id) DO UPDATE SET
    name = EXCLUDED.name, created_at = EXCLUDED.created_at,
    processed_at = EXCLUDED.processed_at, processed_date = EXCLUDED.processed_date,
    updated_at = EXCLUDED.updated_at, cancelled_at = EXCLUDED.cancelled_at,
    cancel_reason = EXCLUDED.cancel_reason, closed_at = EXCLUDED.closed_at,
    test = EXCLUDED.test, email = EXCLUDED.email, customer_id = EXCLUDED.customer_id,
    currency = EXCLUDED.currency, presentment_currency = EXCLUDED.presentment_currency,
    taxes_included = EXCLUDED.taxes_included, source_name = EXCLUDED.source_name,
    tags = EXCLUDED.tags, note = EXCLUDED.note, financial_status = EXCLUDED.financial_status,
    fulfillment_status = EXCLUDED.fulfillment_status, discount_codes = EXCLUDED.discount_codes,
    subtotal_price = EXCLUDED.subtotal_price, total_discounts = EXCLUDED.total_discounts,
    total_shipping_price = EXCLUDED.total_shipping_price, total_tax = EXCLUDED.total_tax,
    total_price = EXCLUDED.total_price, total_refunded = EXCLUDED.total_refunded,
    current_subtotal_price = EXCLUDED.current_subtotal_price,
    current_total_discounts = EXCLUDED.current_total_discounts,
    current_total_tax = EXCLUDED.current_total_tax,
    current_total_price = EXCLUDED.current_total_price,
    first_visit_source = EXCLUDED.first_visit_source,
    first_utm_source = EXCLUDED.first_utm_source, first_utm_medium = EXCLUDED.first_utm_medium,
    first_utm_campaign = EXCLUDED.first_utm_campaign,
    last_visit_source = EXCLUDED.last_visit_source, last_utm_source = EXCLUDED.last_utm_source,
    last_utm_medium = EXCLUDED.last_utm_medium, last_utm_campaign = EXCLUDED.last_utm_campaign,
    original_total_duties = EXCLUDED.original_total_duties,
    current_total_duties = EXCLUDED.current_total_duties,
    original_total_additional_fees = EXCLUDED.original_total_additional_fees,
    current_total_additional_fees = EXCLUDED.current_total_additional_fees,
    additional_fees_tax = EXCLUDED.additional_fees_tax, raw = EXCLUDED.raw, sync_job_id = EXCLUDED.sync_job_id, synced_at = EXCLUDED.synced_at
WHERE t.updated_at <= EXCLUDED.updated_at;

-- name: shopify_upsert_line_items
WITH lines AS (
    SELECT s.object_id AS id, s.parent_id AS order_id, s.payload AS p, s.line_no, 0::bigint AS pos
    FROM staging_ingest.shopify_bulk_rows AS s
    WHERE s.sync_job_id = $1 AND s.shop_id = $2 AND s.typename = 'LineItem'
    UNION ALL
    SELECT storeline_private.shopify_gid_id(e.value ->> 'id'), s.object_id, e.value, s.line_no,
           e.ordinality
    FROM staging_ingest.shopify_bulk_rows AS s
    CROSS JOIN LATERAL jsonb_array_elements(
        storeline_private.shopify_nodes(s.payload -> 'lineItems')) WITH ORDINALITY AS e
    WHERE s.sync_job_id = $1 AND s.shop_id = $2 AND s.typename = 'Order'
      AND s.payload ? 'lineItems'
)
INSERT INTO core_warehouse.order_line_items AS t (
    shop_id, id, order_id, title, sku, vendor, quantity, current_quantity, taxable,
    requires_shipping, product_id, variant_id, original_unit_price, original_total,
    total_discount, discounted_total, total_tax, discount_allocations, tax_lines, is_gift_card,
    duties_tax, raw, sync_job_id)
SELECT DISTINCT ON (l.id)
    $2, l.id, l.order_id, r.title, r.sku, r.vendor, r.quantity, r."currentQuantity", r.taxable,
    r."requiresShipping", storeline_private.shopify_gid_id(r.product ->> 'id'),
    storeline_private.shopify_gid_id(r.variant ->> 'id'),
    v.unit, v.unit * r.quantity, d.amount, v.unit * r.quantity - d.amount, x.amount,
    storeline_private.shopify_nodes(r."discountAllocations"),
    storeline_private.shopify_nodes(r."taxLines"), coalesce(r."isGiftCard", false),
    (SELECT coalesce(sum((t -> 'priceSet' -> 'shopMoney' ->> 'amount')::numeric), 0)
     FROM jsonb_array_elements(coalesce(r.duties, '[]')) AS du
     CROSS JOIN jsonb_array_elements(coalesce(du -> 'taxLines', '[]')) AS t),
    l.p, $1
FROM lines AS l
JOIN core_warehouse.orders AS o ON o.shop_id = $2 AND o.id = l.order_id AND o.sync_job_id = $1
CROSS JOIN LATERAL jsonb_to_record(l.p) AS r(
    title text, sku text, vendor text, quantity integer, "currentQuantity" integer,
    taxable boolean, "requiresShipping" boolean, "isGiftCard" boolean, product jsonb,
    variant jsonb, "originalUnitPriceSet" jsonb, "discountAllocations" jsonb, "taxLines" jsonb,
    duties jsonb)
CROSS JOIN LATERAL (
    SELECT (r."originalUnitPriceSet" -> 'shopMoney' ->> 'amount')::numeric AS unit) AS v
CROSS JOIN LATERAL (
    SELECT coalesce(sum((a -> 'allocatedAmountSet' -> 'shopMoney' ->> 'amount')::numeric), 0)
           AS amount
    FROM jsonb_array_elements(storeline_private.shopify_nodes(r."discountAllocations")) AS a) AS d
CROSS JOIN LATERAL (
    SELECT coalesce(sum((tl -> 'priceSet' -> 'shopMoney' ->> 'amount')::numeric), 0) AS amount
    FROM jsonb_array_elements(storeline_private.shopify_nodes(r."taxLines")) AS tl) AS x
WHERE l.id IS NOT NULL
ORDER BY l.id, l.line_no DESC, l.pos DESC
ON CONFLICT (shop_id, id) DO UPDATE SET
    order_id = EXCLUDED.order_id, title = EXCLUDED.title, sku = EXCLUDED.sku,
    vendor = EXCLUDED.vendor, quantity = EXCLUDED.quantity,
    current_quantity = EXCLUDED.current_quantity, taxable = EXCLUDED.taxable,
    requires_shipping = EXCLUDED.requires_shipping, product_id = EXCLUDED.product_id,
    variant_id = EXCLUDED.variant_id, original_unit_price = EXCLUDED.original_unit_price,
    original_total = EXCLUDED.original_total, total_discount = EXCLUDED.total_discount,
    discounted_total = EXCLUDED.discounted_total, total_tax = EXCLUDED.total_tax,
    discount_allocations = EXCLUDED.discount_allocations, tax_lines = EXCLUDED.tax_lines,
    is_gift_card = EXCLUDED.is_gift_card, duties_tax = EXCLUDED.duties_tax, raw = EXCLUDED.raw, sync_job_id = EXCLUDED.sync_job_id;

-- name: shopify_prune_line_items
DELETE FROM core_warehouse.order_line_items AS c
USING core_warehouse.orders AS o
WHERE o.shop_id = $2 AND o.sync_job_id = $1
  AND c.shop_id = $2 AND c.order_id = o.id AND c.sync_job_id <> $1;

-- name: shopify_upsert_shipping_lines
WITH lines AS (
    SELECT s.object_id AS id, s.parent_id AS order_id, s.payload AS p, s.line_no, 0::bigint AS pos
    FROM staging_ingest.shopify_bulk_rows AS s
    WHERE s.sync_job_id = $1 AND s.shop_id = $2 AND s.typename = 'ShippingLine'
    UNION ALL
    SELECT storeline_private.shopify_gid_id(e.value ->> 'id'), s.object_id, e.value, s.line_no,
           e.ordinality
    FROM staging_ingest.shopify_bulk_rows AS s
    CROSS JOIN LATERAL jsonb_array_elements(
        storeline_private.shopify_nodes(s.payload -> 'shippingLines')) WITH ORDINALITY AS e
    WHERE s.sync_job_id = $1 AND s.shop_id = $2 AND s.typename = 'Order'
      AND s.payload ? 'shippingLines'
)
INSERT INTO core_warehouse.order_shipping_lines AS t (
    shop_id, id, order_id, title, code, source, original_price, total_discount,
    discounted_price, total_tax, discount_allocations, tax_lines, raw, sync_job_id)
SELECT DISTINCT ON (l.id)
    $2, l.id, l.order_id, r.title, r.code, r.source, v.price, d.amount, v.price - d.amount,
    x.amount, storeline_private.shopify_nodes(r."discountAllocations"),
    storeline_private.shopify_nodes(r."taxLines"), l.p, $1
FROM lines AS l
JOIN core_warehouse.orders AS o ON o.shop_id = $2 AND o.id = l.order_id AND o.sync_job_id = $1
CROSS JOIN LATERAL jsonb_to_record(l.p) AS r(
    title text, code text, source text, "originalPriceSet" jsonb, "discountAllocations" jsonb,
    "taxLines" jsonb)
CROSS JOIN LATERAL (
    SELECT (r."originalPriceSet" -> 'shopMoney' ->> 'amount')::numeric AS price) AS v
CROSS JOIN LATERAL (
    SELECT coalesce(sum((a -> 'allocatedAmountSet' -> 'shopMoney' ->> 'amount')::numeric), 0)
           AS amount
    FROM jsonb_array_elements(storeline_private.shopify_nodes(r."discountAllocations")) AS a) AS d
CROSS JOIN LATERAL (
    SELECT coalesce(sum((tl -> 'priceSet' -> 'shopMoney' ->> 'amount')::numeric), 0) AS amount
    FROM jsonb_array_elements(storeline_private.shopify_nodes(r."taxLines")) AS tl) AS x
WHERE l.id IS NOT NULL
ORDER BY l.id, l.line_no DESC, l.pos DESC
ON CONFLICT (shop_id, id) DO UPDATE SET
    order_id = EXCLUDED.order_id, title = EXCLUDED.title, code = EXCLUDED.code,
    source = EXCLUDED.source, original_price = EXCLUDED.original_price,
    total_discount = EXCLUDED.total_discount, discounted_price = EXCLUDED.discounted_price,
    total_tax = EXCLUDED.total_tax, discount_allocations = EXCLUDED.discount_allocations,
    tax_lines = EXCLUDED.tax_lines, raw = EXCLUDED.raw, sync_job_id = EXCLUDED.sync_job_id;

-- name: shopify_prune_shipping_lines
DELETE FROM core_warehouse.order_shipping_lines AS c
USING core_warehouse.orders AS o
WHERE o.shop_id = $2 AND o.sync_job_id = $1
  AND c.shop_id = $2 AND c.order_id = o.id AND c.sync_job_id <> $1;

-- name: shopify_upsert_transactions
WITH txs AS (
    SELECT storeline_private.shopify_gid_id(e.value ->> 'id') AS id, s.object_id AS order_id,
           e.value AS p, s.line_no, e.ordinality AS pos
    FROM staging_ingest.shopify_bulk_rows AS s
    CROSS JOIN LATERAL jsonb_array_elements(
        storeline_private.shopify_nodes(s.payload -> 'transactions')) WITH ORDINALITY AS e
    WHERE s.sync_job_id = $1 AND s.shop_id = $2 AND s.typename = 'Order'
      AND s.payload ? 'transactions'
    UNION ALL
    SELECT s.object_id, s.parent_id, s.payload, s.line_no, 0
    FROM staging_ingest.shopify_bulk_rows AS s
    WHERE s.sync_job_id = $1 AND s.shop_id = $2 AND s.typename = 'OrderTransaction'
)
INSERT INTO core_warehouse.transactions AS t (
    shop_id, id, order_id, kind, status, gateway, test, amount, currency, parent_id, created_at,
    processed_at, raw, sync_job_id)
SELECT DISTINCT ON (x.id)
    $2, x.id, x.order_id, r.kind, r.status, r.gateway, coalesce(r.test, false),
    (r."amountSet" -> 'shopMoney' ->> 'amount')::numeric,
    r."amountSet" -> 'shopMoney' ->> 'currencyCode',
    storeline_private.shopify_gid_id(r."parentTransaction" ->> 'id'),
    r."createdAt", r."processedAt", x.p, $1
FROM txs AS x
JOIN core_warehouse.orders AS o ON o.shop_id = $2 AND o.id = x.order_id AND o.sync_job_id = $1
CROSS JOIN LATERAL jsonb_to_record(x.p) AS r(
    kind text, status text, gateway text, test boolean, "amountSet" jsonb,
    "parentTransaction" jsonb, "createdAt" timestamptz, "processedAt" timestamptz)
WHERE x.id IS NOT NULL
ORDER BY x.id, x.line_no DESC, x.pos DESC
ON CONFLICT (shop_id, id) DO UPDATE SET
    order_id = EXCLUDED.order_id, kind = EXCLUDED.kind, status = EXCLUDED.status,
    gateway = EXCLUDED.gateway, test = EXCLUDED.test, amount = EXCLUDED.amount,
    currency = EXCLUDED.currency, parent_id = EXCLUDED.parent_id,
    created_at = EXCLUDED.created_at, processed_at = EXCLUDED.processed_at, raw = EXCLUDED.raw,
    sync_job_id = EXCLUDED.sync_job_id;

-- name: shopify_prune_transactions
DELETE FROM core_warehouse.transactions AS c
USING core_warehouse.orders AS o
WHERE o.shop_id = $2 AND o.sync_job_id = $1
  AND c.shop_id = $2 AND c.order_id = o.id AND c.sync_job_id <> $1;

-- name: shopify_upsert_refunds
-- Sources, best first: a Refund line or a refund inside a details carrier (priority 1), then
-- the refund header inside the full Order line (priority 0). details_sync_job_id records the
-- last job that carried the refund's line items / shipping lines.
WITH src AS (
    SELECT storeline_private.shopify_gid_id(e.value ->> 'id') AS id, s.object_id AS order_id,
           e.value AS p, CASE WHEN s.payload ? 'createdAt' THEN 0 ELSE 1 END AS pri,
           s.line_no, e.ordinality AS pos
    FROM staging_ingest.shopify_bulk_rows AS s
    CROSS JOIN LATERAL jsonb_array_elements(
        storeline_private.shopify_nodes(s.payload -> 'refunds')) WITH ORDINALITY AS e
    WHERE s.sync_job_id = $1 AND s.shop_id = $2 AND s.typename = 'Order'
      AND s.payload ? 'refunds'
    UNION ALL
    SELECT s.object_id,
           coalesce(s.parent_id, storeline_private.shopify_gid_id(s.payload -> 'order' ->> 'id')),
           s.payload, 1, s.line_no, 0
    FROM staging_ingest.shopify_bulk_rows AS s
    WHERE s.sync_job_id = $1 AND s.shop_id = $2 AND s.typename = 'Refund'
),
detail_lines AS (
    SELECT DISTINCT s.parent_id AS refund_id
    FROM staging_ingest.shopify_bulk_rows AS s
    WHERE s.sync_job_id = $1 AND s.shop_id = $2
      AND s.typename IN ('RefundLineItem', 'RefundShippingLine', 'OrderAdjustment')
),
-- refund_details.graphql leaves totalRefundedSet out (3 cost points a refund, and the bulk
-- header has it): the best source that has it supplies it.
totals AS (
    SELECT DISTINCT ON (x.id) x.id, x.p -> 'totalRefundedSet' AS total
    FROM src AS x
    WHERE x.p ? 'totalRefundedSet'
    ORDER BY x.id, x.pri DESC, x.line_no DESC, x.pos DESC
)
INSERT INTO core_warehouse.refunds AS t (
    shop_id, id, order_id, created_at, refund_date, updated_at, note, total_refunded,
    details_sync_job_id, raw, sync_job_id)
SELECT DISTINCT ON (x.id)
    $2, x.id, x.order_id, r."createdAt", (r."createdAt" AT TIME ZONE $3)::date, r."updatedAt",
    r.note, (tt.total -> 'shopMoney' ->> 'amount')::numeric,
    CASE WHEN x.p ? 'refundLineItems' OR x.p ? 'refundShippingLines'
              OR x.id IN (SELECT refund_id FROM detail_lines) THEN $1 END,
    CASE WHEN x.p ? 'totalRefundedSet' OR tt.total IS NULL THEN x.p
         ELSE x.p || jsonb_build_object('totalRefundedSet', tt.total) END,
    $1
FROM src AS x
JOIN core_warehouse.orders AS o ON o.shop_id = $2 AND o.id = x.order_id AND o.sync_job_id = $1
LEFT JOIN totals AS tt ON tt.id = x.id
CROSS JOIN LATERAL jsonb_to_record(x.p) AS r(
    "createdAt" timestamptz, "updatedAt" timestamptz, note text)
WHERE x.id IS NOT NULL AND r."createdAt" IS NOT NULL
ORDER BY x.id, x.pri DESC, x.line_no DESC, x.pos DESC
ON CONFLICT (shop_id, id) DO UPDATE SET
    order_id = EXCLUDED.order_id, created_at = EXCLUDED.created_at,
    refund_date = EXCLUDED.refund_date, updated_at = EXCLUDED.updated_at, note = EXCLUDED.note,
    total_refunded = EXCLUDED.total_refunded,
    details_sync_job_id = coalesce(EXCLUDED.details_sync_job_id, t.details_sync_job_id),
    raw = EXCLUDED.raw, sync_job_id = EXCLUDED.sync_job_id;

-- name: shopify_refund_duties
-- refunds.duties = Σ Refund.duties of the refund headers in the job's full Order lines (the last
-- line of each order wins, like the order row). Refund-details carriers (Order lines without
-- createdAt) are skipped: they may not select duties, and the headers always come with them.
WITH heads AS (
    SELECT DISTINCT ON (s.object_id) s.object_id AS order_id, s.payload -> 'refunds' AS refunds
    FROM staging_ingest.shopify_bulk_rows AS s
    WHERE s.sync_job_id = $1 AND s.shop_id = $2 AND s.typename = 'Order'
      AND s.payload ? 'createdAt' AND s.payload ? 'refunds'
    ORDER BY s.object_id, s.line_no DESC
),
duties AS (
    SELECT storeline_private.shopify_gid_id(e.value ->> 'id') AS id, h.order_id,
           coalesce(sum((d.value -> 'amountSet' -> 'shopMoney' ->> 'amount')::numeric), 0)
               AS amount,
           coalesce(sum((SELECT sum((t -> 'priceSet' -> 'shopMoney' ->> 'amount')::numeric)
                         FROM jsonb_array_elements(
                             coalesce(d.value -> 'originalDuty' -> 'taxLines', '[]')) AS t)), 0)
               AS tax
    FROM heads AS h
    CROSS JOIN LATERAL jsonb_array_elements(storeline_private.shopify_nodes(h.refunds)) AS e
    LEFT JOIN LATERAL jsonb_array_elements(
        storeline_private.shopify_nodes(e.value -> 'duties')) AS d ON true
    GROUP BY 1, 2
)
UPDATE core_warehouse.refunds AS r SET duties = d.amount, duties_tax = d.tax
FROM duties AS d
WHERE r.shop_id = $2 AND r.id = d.id AND r.order_id = d.order_id AND r.sync_job_id = $1
  AND (r.duties IS DISTINCT FROM d.amount OR r.duties_tax IS DISTINCT FROM d.tax);

-- name: shopify_prune_refunds
-- Refunds of the job's orders that the job no longer lists (with their details).
WITH gone AS (
    DELETE FROM core_warehouse.refunds AS c
    USING core_warehouse.orders AS o
    WHERE o.shop_id = $2 AND o.sync_job_id = $1
      AND c.shop_id = $2 AND c.order_id = o.id AND c.sync_job_id <> $1
    RETURNING c.id
),
gone_lines AS (
    DELETE FROM core_warehouse.refund_line_items AS c
    USING gone WHERE c.shop_id = $2 AND c.refund_id = gone.id
)
DELETE FROM core_warehouse.refund_shipping_lines AS c
USING gone WHERE c.shop_id = $2 AND c.refund_id = gone.id;

-- name: shopify_upsert_refund_line_items
WITH lines AS (
    SELECT storeline_private.shopify_gid_id(e.value ->> 'id') AS id, f.id AS refund_id,
           f.order_id, e.value AS p, 0::bigint AS line_no, e.ordinality AS pos
    FROM core_warehouse.refunds AS f
    CROSS JOIN LATERAL jsonb_array_elements(
        storeline_private.shopify_nodes(f.raw -> 'refundLineItems')) WITH ORDINALITY AS e
    WHERE f.shop_id = $2 AND f.sync_job_id = $1 AND f.details_sync_job_id = $1
      AND f.raw ? 'refundLineItems'
    UNION ALL
    SELECT s.object_id, f.id, f.order_id, s.payload, s.line_no, 0
    FROM staging_ingest.shopify_bulk_rows AS s
    JOIN core_warehouse.refunds AS f
      ON f.shop_id = $2 AND f.id = s.parent_id AND f.details_sync_job_id = $1
    WHERE s.sync_job_id = $1 AND s.shop_id = $2 AND s.typename = 'RefundLineItem'
)
INSERT INTO core_warehouse.refund_line_items AS t (
    shop_id, id, refund_id, order_id, line_item_id, quantity, restock_type, restocked, subtotal,
    total_tax, raw, sync_job_id)
SELECT DISTINCT ON (l.id)
    $2, l.id, l.refund_id, l.order_id,
    storeline_private.shopify_gid_id(r."lineItem" ->> 'id'), r.quantity, r."restockType",
    r.restocked, (r."subtotalSet" -> 'shopMoney' ->> 'amount')::numeric,
    coalesce((r."totalTaxSet" -> 'shopMoney' ->> 'amount')::numeric, 0), l.p, $1
FROM lines AS l
CROSS JOIN LATERAL jsonb_to_record(l.p) AS r(
    "lineItem" jsonb, quantity integer, "restockType" text, restocked boolean,
    "subtotalSet" jsonb, "totalTaxSet" jsonb)
WHERE l.id IS NOT NULL
ORDER BY l.id, l.line_no DESC, l.pos DESC
ON CONFLICT (shop_id, id) DO UPDATE SET
    refund_id = EXCLUDED.refund_id, order_id = EXCLUDED.order_id,
    line_item_id = EXCLUDED.line_item_id, quantity = EXCLUDED.quantity,
    restock_type = EXCLUDED.restock_type, restocked = EXCLUDED.restocked,
    subtotal = EXCLUDED.subtotal, total_tax = EXCLUDED.total_tax, raw = EXCLUDED.raw,
    sync_job_id = EXCLUDED.sync_job_id;

-- name: shopify_prune_refund_line_items
DELETE FROM core_warehouse.refund_line_items AS c
USING core_warehouse.refunds AS f
WHERE f.shop_id = $2 AND f.sync_job_id = $1 AND f.details_sync_job_id = $1
  AND c.shop_id = $2 AND c.refund_id = f.id AND c.sync_job_id <> $1;

-- name: shopify_upsert_refund_shipping_lines
WITH lines AS (
    SELECT storeline_private.shopify_gid_id(e.value ->> 'id') AS id, f.id AS refund_id,
           f.order_id, e.value AS p, 0::bigint AS line_no, e.ordinality AS pos
    FROM core_warehouse.refunds AS f
    CROSS JOIN LATERAL jsonb_array_elements(
        storeline_private.shopify_nodes(f.raw -> 'refundShippingLines')) WITH ORDINALITY AS e
    WHERE f.shop_id = $2 AND f.sync_job_id = $1 AND f.details_sync_job_id = $1
      AND f.raw ? 'refundShippingLines'
    UNION ALL
    SELECT s.object_id, f.id, f.order_id, s.payload, s.line_no, 0
    FROM staging_ingest.shopify_bulk_rows AS s
    JOIN core_warehouse.refunds AS f
      ON f.shop_id = $2 AND f.id = s.parent_id AND f.details_sync_job_id = $1
    WHERE s.sync_job_id = $1 AND s.shop_id = $2 AND s.typename = 'RefundShippingLine'
)
INSERT INTO core_warehouse.refund_shipping_lines AS t (
    shop_id, id, refund_id, order_id, shipping_line_id, subtotal, tax, raw, sync_job_id)
SELECT DISTINCT ON (l.id)
    $2, l.id, l.refund_id, l.order_id,
    storeline_private.shopify_gid_id(r."shippingLine" ->> 'id'),
    (r."subtotalAmountSet" -> 'shopMoney' ->> 'amount')::numeric,
    coalesce((r."taxAmountSet" -> 'shopMoney' ->> 'amount')::numeric, 0), l.p, $1
FROM lines AS l
CROSS JOIN LATERAL jsonb_to_record(l.p) AS r(
    "shippingLine" jsonb, "subtotalAmountSet" jsonb, "taxAmountSet" jsonb)
WHERE l.id IS NOT NULL
ORDER BY l.id, l.line_no DESC, l.pos DESC
ON CONFLICT (shop_id, id) DO UPDATE SET
    refund_id = EXCLUDED.refund_id, order_id = EXCLUDED.order_id,
    shipping_line_id = EXCLUDED.shipping_line_id, subtotal = EXCLUDED.subtotal,
    tax = EXCLUDED.tax, raw = EXCLUDED.raw, sync_job_id = EXCLUDED.sync_job_id;

-- name: shopify_prune_refund_shipping_lines
DELETE FROM core_warehouse.refund_shipping_lines AS c
USING core_warehouse.refunds AS f
WHERE f.shop_id = $2 AND f.sync_job_id = $1 AND f.details_sync_job_id = $1
  AND c.shop_id = $2 AND c.refund_id = f.id AND c.sync_job_id <> $1;

-- name: shopify_refund_adjustments
-- refunds.adjustments / adjustments_tax = Σ Refund.orderAdjustments amountSet / taxAmountSet of
-- the refunds whose details the job carried (rule 8: refund money on no refund line).
WITH adj AS (
    SELECT DISTINCT ON (s.object_id) s.parent_id AS refund_id,
           coalesce((s.payload -> 'amountSet' -> 'shopMoney' ->> 'amount')::numeric, 0) AS amount,
           coalesce((s.payload -> 'taxAmountSet' -> 'shopMoney' ->> 'amount')::numeric, 0) AS tax
    FROM staging_ingest.shopify_bulk_rows AS s
    WHERE s.sync_job_id = $1 AND s.shop_id = $2 AND s.typename = 'OrderAdjustment'
      AND s.object_id IS NOT NULL
    ORDER BY s.object_id, s.line_no DESC
),
sums AS (
    SELECT f.id, coalesce(sum(a.amount), 0) AS amount, coalesce(sum(a.tax), 0) AS tax
    FROM core_warehouse.refunds AS f
    LEFT JOIN adj AS a ON a.refund_id = f.id
    WHERE f.shop_id = $2 AND f.sync_job_id = $1 AND f.details_sync_job_id = $1
    GROUP BY f.id
)
UPDATE core_warehouse.refunds AS r SET adjustments = x.amount, adjustments_tax = x.tax
FROM sums AS x
WHERE r.shop_id = $2 AND r.id = x.id
  AND (r.adjustments <> x.amount OR r.adjustments_tax <> x.tax);

-- name: shopify_upsert_order_sales
-- Sale lines (agreements.py): the ProductSales of the order's edit and return agreements, each
-- carrying its agreement (id, __typename, happenedAt). sale_date: happenedAt, shop-local.
INSERT INTO core_warehouse.order_sales AS t (
    shop_id, id, order_id, agreement_id, agreement_type, happened_at, sale_date, action_type,
    line_type, line_item_id, quantity, total_amount, total_tax, raw, sync_job_id)
SELECT DISTINCT ON (s.object_id)
    $2, s.object_id, s.parent_id, storeline_private.shopify_gid_id(a.agreement ->> 'id'),
    a.agreement ->> '__typename', a.at, (a.at AT TIME ZONE $3)::date, r."actionType",
    r."lineType", storeline_private.shopify_gid_id(r."lineItem" ->> 'id'), r.quantity,
    coalesce((r."totalAmount" -> 'shopMoney' ->> 'amount')::numeric, 0),
    coalesce((r."totalTaxAmount" -> 'shopMoney' ->> 'amount')::numeric, 0), s.payload, $1
FROM staging_ingest.shopify_bulk_rows AS s
JOIN core_warehouse.orders AS o ON o.shop_id = $2 AND o.id = s.parent_id AND o.sync_job_id = $1
CROSS JOIN LATERAL jsonb_to_record(s.payload) AS r(
    "actionType" text, "lineType" text, "lineItem" jsonb, quantity integer,
    "totalAmount" jsonb, "totalTaxAmount" jsonb)
CROSS JOIN LATERAL (
    SELECT s.payload -> 'agreement' AS agreement,
           (s.payload -> 'agreement' ->> 'happenedAt')::timestamptz AS at) AS a
WHERE s.sync_job_id = $1 AND s.shop_id = $2 AND s.typename = 'Sale'
  AND s.object_id IS NOT NULL AND a.at IS NOT NULL AND r."actionType" IS NOT NULL
ORDER BY s.object_id, s.line_no DESC
ON CONFLICT (shop_id, id) DO UPDATE SET
    order_id = EXCLUDED.order_id, agreement_id = EXCLUDED.agreement_id,
    agreement_type = EXCLUDED.agreement_type, happened_at = EXCLUDED.happened_at,
    sale_date = EXCLUDED.sale_date, action_type = EXCLUDED.action_type,
    line_type = EXCLUDED.line_type, line_item_id = EXCLUDED.line_item_id,
    quantity = EXCLUDED.quantity, total_amount = EXCLUDED.total_amount,
    total_tax = EXCLUDED.total_tax, raw = EXCLUDED.raw, sync_job_id = EXCLUDED.sync_job_id;

-- name: shopify_prune_order_sales
-- A job carries every agreement of the edited and returned orders it writes (agreements.py),
-- so sales of its orders it did not carry are gone.
DELETE FROM core_warehouse.order_sales AS c
USING core_warehouse.orders AS o
WHERE o.shop_id = $2 AND o.sync_job_id = $1
  AND c.shop_id = $2 AND c.order_id = o.id AND c.sync_job_id <> $1;

-- name: shopify_upsert_order_returns
-- Return lines (agreements.py): fees kept = Σ returnLineItems.restockingFee + Σ
-- returnShippingFees; booked_at = agreedAt (the earliest ReturnAgreement naming the return).
INSERT INTO core_warehouse.order_returns AS t (
    shop_id, id, order_id, name, status, created_at, booked_at, return_date, restocking_fees,
    return_shipping_fees, raw, sync_job_id)
SELECT DISTINCT ON (s.object_id)
    $2, s.object_id, s.parent_id, r.name, r.status, r."createdAt", r."agreedAt",
    (r."agreedAt" AT TIME ZONE $3)::date,
    (SELECT coalesce(sum((e -> 'restockingFee' -> 'amountSet' -> 'shopMoney' ->> 'amount')
                         ::numeric), 0)
     FROM jsonb_array_elements(storeline_private.shopify_nodes(r."returnLineItems")) AS e),
    (SELECT coalesce(sum((f -> 'amountSet' -> 'shopMoney' ->> 'amount')::numeric), 0)
     FROM jsonb_array_elements(coalesce(r."returnShippingFees", '[]')) AS f),
    s.payload, $1
FROM staging_ingest.shopify_bulk_rows AS s
JOIN core_warehouse.orders AS o ON o.shop_id = $2 AND o.id = s.parent_id AND o.sync_job_id = $1
CROSS JOIN LATERAL jsonb_to_record(s.payload) AS r(
    name text, status text, "createdAt" timestamptz, "agreedAt" timestamptz,
    "returnLineItems" jsonb, "returnShippingFees" jsonb)
WHERE s.sync_job_id = $1 AND s.shop_id = $2 AND s.typename = 'Return' AND s.object_id IS NOT NULL
ORDER BY s.object_id, s.line_no DESC
ON CONFLICT (shop_id, id) DO UPDATE SET
    order_id = EXCLUDED.order_id, name = EXCLUDED.name, status = EXCLUDED.status,
    created_at = EXCLUDED.created_at, booked_at = EXCLUDED.booked_at,
    return_date = EXCLUDED.return_date, restocking_fees = EXCLUDED.restocking_fees,
    return_shipping_fees = EXCLUDED.return_shipping_fees, raw = EXCLUDED.raw,
    sync_job_id = EXCLUDED.sync_job_id;

-- name: shopify_prune_order_returns
DELETE FROM core_warehouse.order_returns AS c
USING core_warehouse.orders AS o
WHERE o.shop_id = $2 AND o.sync_job_id = $1
  AND c.shop_id = $2 AND c.order_id = o.id AND c.sync_job_id <> $1;

-- name: shopify_upsert_customers
INSERT INTO core_warehouse.customers AS t (
    shop_id, id, first_name, last_name, email, state, tags, number_of_orders, amount_spent,
    currency, created_at, updated_at, raw, sync_job_id, synced_at)
SELECT DISTINCT ON (s.object_id)
    $2, s.object_id, r."firstName", r."lastName",
    coalesce(r."defaultEmailAddress" ->> 'emailAddress', r.email), r.state,
    coalesce(r.tags, '{}'), r."numberOfOrders", (r."amountSpent" ->> 'amount')::numeric,
    r."amountSpent" ->> 'currencyCode', r."createdAt", r."updatedAt", s.payload, $1, now()
FROM staging_ingest.shopify_bulk_rows AS s
CROSS JOIN LATERAL jsonb_to_record(s.payload) AS r(
    "firstName" text, "lastName" text, "defaultEmailAddress" jsonb, email text, state text,
    tags text[], "numberOfOrders" bigint, "amountSpent" jsonb, "createdAt" timestamptz,
    "updatedAt" timestamptz)
WHERE s.sync_job_id = $1 AND s.shop_id = $2 AND s.typename = 'Customer'
  AND s.object_id IS NOT NULL AND s.parent_id IS NULL
ORDER BY s.object_id, s.line_no DESC
ON CONFLICT (shop_id, id) DO UPDATE SET
    first_name = EXCLUDED.first_name, last_name = EXCLUDED.last_name, email = EXCLUDED.email,
    state = EXCLUDED.state, tags = EXCLUDED.tags, number_of_orders = EXCLUDED.number_of_orders,
    amount_spent = EXCLUDED.amount_spent, currency = EXCLUDED.currency,
    created_at = EXCLUDED.created_at, updated_at = EXCLUDED.updated_at, raw = EXCLUDED.raw,
    sync_job_id = EXCLUDED.sync_job_id, synced_at = EXCLUDED.synced_at
WHERE t.updated_at IS NULL OR EXCLUDED.updated_at IS NULL OR t.updated_at <= EXCLUDED.updated_at;

-- name: shopify_count_orphans
-- Child lines whose parent never reached the warehouse (e.g. a partial file without the parent
-- line); reported, not loaded.
SELECT count(*)
FROM staging_ingest.shopify_bulk_rows AS s
WHERE s.sync_job_id = $1 AND s.shop_id = $2 AND s.parent_id IS NOT NULL
  AND s.typename IN ('LineItem', 'ShippingLine', 'OrderTransaction', 'Refund')
  AND NOT EXISTS (SELECT 1 FROM core_warehouse.orders AS o
                  WHERE o.shop_id = $2 AND o.id = s.parent_id AND o.sync_job_id = $1);

-- name: shopify_delete_orders
-- Soft delete (an ORDER destroy event): the row and its raw JSON stay, every report drops it.
-- Returns the days it used to count on.
WITH hit AS (
    UPDATE core_warehouse.orders AS o SET deleted_at = $3
    WHERE o.shop_id = $1 AND o.id = ANY ($2::bigint[]) AND o.deleted_at IS NULL
    RETURNING o.id, o.processed_date
)
SELECT processed_date AS day FROM hit
UNION
SELECT r.refund_date FROM core_warehouse.refunds AS r JOIN hit ON r.order_id = hit.id
WHERE r.shop_id = $1
UNION
SELECT x.sale_date FROM core_warehouse.order_sales AS x JOIN hit ON x.order_id = hit.id
WHERE x.shop_id = $1
UNION
SELECT x.return_date FROM core_warehouse.order_returns AS x JOIN hit ON x.order_id = hit.id
WHERE x.shop_id = $1;

-- name: shopify_prune_unseen_orders
-- HISTORICAL_REBUILD: the shop's orders the rebuild job did not carry no longer exist in
-- Shopify. Deletes them and their children; returns the days they counted on.
WITH gone AS (
    DELETE FROM core_warehouse.orders AS o
    WHERE o.shop_id = $1 AND o.sync_job_id <> $2
      AND NOT EXISTS (SELECT 1 FROM staging_ingest.shopify_bulk_rows AS s
                      WHERE s.sync_job_id = $2 AND s.shop_id = $1 AND s.typename = 'Order'
                        AND s.object_id = o.id)
    RETURNING o.id, o.processed_date
),
gone_refunds AS (
    DELETE FROM core_warehouse.refunds AS r USING gone
    WHERE r.shop_id = $1 AND r.order_id = gone.id
    RETURNING r.refund_date
),
gone_lines AS (
    DELETE FROM core_warehouse.order_line_items AS c USING gone
    WHERE c.shop_id = $1 AND c.order_id = gone.id
),
gone_shipping AS (
    DELETE FROM core_warehouse.order_shipping_lines AS c USING gone
    WHERE c.shop_id = $1 AND c.order_id = gone.id
),
gone_transactions AS (
    DELETE FROM core_warehouse.transactions AS c USING gone
    WHERE c.shop_id = $1 AND c.order_id = gone.id
),
gone_refund_lines AS (
    DELETE FROM core_warehouse.refund_line_items AS c USING gone
    WHERE c.shop_id = $1 AND c.order_id = gone.id
),
gone_refund_shipping AS (
    DELETE FROM core_warehouse.refund_shipping_lines AS c USING gone
    WHERE c.shop_id = $1 AND c.order_id = gone.id
),
gone_sales AS (
    DELETE FROM core_warehouse.order_sales AS c USING gone
    WHERE c.shop_id = $1 AND c.order_id = gone.id
    RETURNING c.sale_date
),
gone_returns AS (
    DELETE FROM core_warehouse.order_returns AS c USING gone
    WHERE c.shop_id = $1 AND c.order_id = gone.id
    RETURNING c.return_date
)
SELECT processed_date AS day FROM gone
UNION
SELECT refund_date FROM gone_refunds
UNION
SELECT sale_date FROM gone_sales
UNION
SELECT return_date FROM gone_returns;

-- name: shopify_prune_unseen_customers
-- Only when the rebuild carried customers at all (customers come from their own bulk query).
DELETE FROM core_warehouse.customers AS c
WHERE c.shop_id = $1 AND c.sync_job_id <> $2
  AND EXISTS (SELECT 1 FROM staging_ingest.shopify_bulk_rows AS s
              WHERE s.sync_job_id = $2 AND s.shop_id = $1 AND s.typename = 'Customer')
  AND NOT EXISTS (SELECT 1 FROM staging_ingest.shopify_bulk_rows AS s
                  WHERE s.sync_job_id = $2 AND s.shop_id = $1 AND s.typename = 'Customer'
                    AND s.object_id = c.id);

-- name: shopify_shop_timezone
-- FOR SHARE: a timezone change (its trigger restamps the shop's days) waits until the transform
-- that read this timezone commits, so no job writes days in a timezone that is already gone.
SELECT timezone FROM app_dashboard.shops WHERE id = $1 FOR SHARE;

-- name: shopify_get_nestloop
SELECT current_setting('enable_nestloop');

-- name: shopify_set_nestloop
-- Transaction-local (is_local = true): nothing leaks to the pooled session.
SELECT set_config('enable_nestloop', $1, true);
