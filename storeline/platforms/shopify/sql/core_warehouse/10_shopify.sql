-- Shopify in the warehouse: typed, wide tables keyed (shop_id, Shopify numeric id), each row's
-- latest source JSON kept in `raw`. Written only by the set-based transform
-- (queries/shopify.sql). Money is numeric in the shop currency (shopMoney); presentment money
-- stays in `raw`. Discount allocations and tax lines are jsonb columns beside their sums, which
-- is all the revenue SQL needs.
--
-- `processed_date` / `refund_date` are shop-local days (app_dashboard.shops.timezone at the time
-- of the transform), stored so rollups find a day's rows by index instead of converting every
-- timestamp. `sync_job_id` is the job that last wrote the row: the transform replaces the
-- children of exactly the orders it wrote, and prune_unseen deletes what a rebuild did not see.
-- No foreign keys between these tables: the transform deletes and inserts children explicitly,
-- and per-row FK checks would slow backfills.

-- A connection as the bulk JSONL or a page renders it (a list, {nodes: […]} or
-- {edges: [{node}]}) → a jsonb array; anything else → []. Lets one transform serve both paths.
-- Redefined, inlinable, by 40_shopify_inline_helpers.sql (revision 0006).
CREATE FUNCTION storeline_private.shopify_nodes(c jsonb) RETURNS jsonb
    LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT CASE jsonb_typeof(c)
        WHEN 'array' THEN c
        WHEN 'object' THEN coalesce(
            c -> 'nodes',
            (SELECT jsonb_agg(e -> 'node') FROM jsonb_array_elements(
                CASE WHEN jsonb_typeof(c -> 'edges') = 'array' THEN c -> 'edges'
                     ELSE '[]'::jsonb END) AS e),
            '[]'::jsonb)
        ELSE '[]'::jsonb
    END
$$;

CREATE TABLE core_warehouse.orders (
    shop_id                 text NOT NULL,
    id                      bigint NOT NULL,
    name                    text,
    created_at              timestamptz NOT NULL,
    processed_at            timestamptz NOT NULL,
    processed_date          date NOT NULL,
    updated_at              timestamptz NOT NULL,
    cancelled_at            timestamptz,
    cancel_reason           text,
    closed_at               timestamptz,
    test                    boolean NOT NULL DEFAULT false,
    -- Set by apply_deletions (an ORDER destroy event); deleted orders leave every report.
    deleted_at              timestamptz,
    email                   text,
    customer_id             bigint,
    currency                text,
    presentment_currency    text,
    taxes_included          boolean,
    source_name             text,
    tags                    text[] NOT NULL DEFAULT '{}',
    note                    text,
    financial_status        text,
    fulfillment_status      text,
    discount_codes          text[] NOT NULL DEFAULT '{}',
    subtotal_price          numeric,
    total_discounts         numeric,
    total_shipping_price    numeric,
    total_tax               numeric,
    total_price             numeric,
    total_refunded          numeric,
    current_subtotal_price  numeric,
    current_total_discounts numeric,
    current_total_tax       numeric,
    current_total_price     numeric,
    first_visit_source      text,
    first_utm_source        text,
    first_utm_medium        text,
    first_utm_campaign      text,
    last_visit_source       text,
    last_utm_source         text,
    last_utm_medium         text,
    last_utm_campaign       text,
    raw                     jsonb NOT NULL,
    sync_job_id             bigint NOT NULL,
    synced_at               timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (shop_id, id)
);
CREATE INDEX orders_shop_day_idx ON core_warehouse.orders (shop_id, processed_date);
CREATE INDEX orders_shop_job_idx ON core_warehouse.orders (shop_id, sync_job_id);
CREATE INDEX orders_shop_customer_idx ON core_warehouse.orders (shop_id, customer_id);
SELECT storeline_private.enable_shop_rls('core_warehouse.orders');

CREATE TABLE core_warehouse.order_line_items (
    shop_id              text NOT NULL,
    id                   bigint NOT NULL,
    order_id             bigint NOT NULL,
    title                text,
    sku                  text,
    vendor               text,
    quantity             integer NOT NULL,
    current_quantity     integer,
    taxable              boolean,
    requires_shipping    boolean,
    product_id           bigint,
    variant_id           bigint,
    original_unit_price  numeric NOT NULL,
    -- original_unit_price × quantity: the line's gross sales.
    original_total       numeric NOT NULL,
    -- Σ discountAllocations: line discounts plus the line's share of order-level discounts.
    total_discount       numeric NOT NULL,
    discounted_total     numeric NOT NULL,
    total_tax            numeric NOT NULL,
    discount_allocations jsonb NOT NULL DEFAULT '[]',
    tax_lines            jsonb NOT NULL DEFAULT '[]',
    raw                  jsonb NOT NULL,
    sync_job_id          bigint NOT NULL,
    PRIMARY KEY (shop_id, id)
);
CREATE INDEX order_line_items_order_idx ON core_warehouse.order_line_items (shop_id, order_id);
SELECT storeline_private.enable_shop_rls('core_warehouse.order_line_items');

CREATE TABLE core_warehouse.order_shipping_lines (
    shop_id              text NOT NULL,
    id                   bigint NOT NULL,
    order_id             bigint NOT NULL,
    title                text,
    code                 text,
    source               text,
    original_price       numeric NOT NULL,
    total_discount       numeric NOT NULL,
    -- original_price − shipping discounts: the "shipping charges" of the sales report.
    discounted_price     numeric NOT NULL,
    total_tax            numeric NOT NULL,
    discount_allocations jsonb NOT NULL DEFAULT '[]',
    tax_lines            jsonb NOT NULL DEFAULT '[]',
    raw                  jsonb NOT NULL,
    sync_job_id          bigint NOT NULL,
    PRIMARY KEY (shop_id, id)
);
CREATE INDEX order_shipping_lines_order_idx
    ON core_warehouse.order_shipping_lines (shop_id, order_id);
SELECT storeline_private.enable_shop_rls('core_warehouse.order_shipping_lines');

CREATE TABLE core_warehouse.transactions (
    shop_id       text NOT NULL,
    id            bigint NOT NULL,
    order_id      bigint NOT NULL,
    kind          text NOT NULL,
    status        text NOT NULL,
    gateway       text,
    test          boolean NOT NULL DEFAULT false,
    amount        numeric NOT NULL,
    currency      text,
    parent_id     bigint,
    created_at    timestamptz,
    processed_at  timestamptz,
    raw           jsonb NOT NULL,
    sync_job_id   bigint NOT NULL,
    PRIMARY KEY (shop_id, id)
);
CREATE INDEX transactions_order_idx ON core_warehouse.transactions (shop_id, order_id);
SELECT storeline_private.enable_shop_rls('core_warehouse.transactions');

CREATE TABLE core_warehouse.refunds (
    shop_id        text NOT NULL,
    id             bigint NOT NULL,
    order_id       bigint NOT NULL,
    created_at     timestamptz NOT NULL,
    refund_date    date NOT NULL,
    updated_at     timestamptz,
    note           text,
    total_refunded numeric,
    -- The last job that carried this refund's line items and shipping lines (the bulk file
    -- has refund headers only; details come from a second query). Details are replaced only by
    -- a job that carries them, so a header-only job never erases them. NULL: not loaded yet.
    details_sync_job_id bigint,
    raw            jsonb NOT NULL,
    sync_job_id    bigint NOT NULL,
    PRIMARY KEY (shop_id, id)
);
CREATE INDEX refunds_order_idx ON core_warehouse.refunds (shop_id, order_id);
CREATE INDEX refunds_shop_day_idx ON core_warehouse.refunds (shop_id, refund_date);
CREATE INDEX refunds_shop_job_idx ON core_warehouse.refunds (shop_id, sync_job_id);
SELECT storeline_private.enable_shop_rls('core_warehouse.refunds');

CREATE TABLE core_warehouse.refund_line_items (
    shop_id       text NOT NULL,
    id            bigint NOT NULL,
    refund_id     bigint NOT NULL,
    order_id      bigint NOT NULL,
    line_item_id  bigint,
    quantity      integer NOT NULL,
    restock_type  text,
    restocked     boolean,
    -- The returned units' value after every discount: the sales report's "returns".
    subtotal      numeric NOT NULL,
    total_tax     numeric NOT NULL,
    raw           jsonb NOT NULL,
    sync_job_id   bigint NOT NULL,
    PRIMARY KEY (shop_id, id)
);
CREATE INDEX refund_line_items_refund_idx ON core_warehouse.refund_line_items (shop_id, refund_id);
SELECT storeline_private.enable_shop_rls('core_warehouse.refund_line_items');

CREATE TABLE core_warehouse.refund_shipping_lines (
    shop_id          text NOT NULL,
    id               bigint NOT NULL,
    refund_id        bigint NOT NULL,
    order_id         bigint NOT NULL,
    shipping_line_id bigint,
    subtotal         numeric NOT NULL,
    tax              numeric NOT NULL,
    raw              jsonb NOT NULL,
    sync_job_id      bigint NOT NULL,
    PRIMARY KEY (shop_id, id)
);
CREATE INDEX refund_shipping_lines_refund_idx
    ON core_warehouse.refund_shipping_lines (shop_id, refund_id);
SELECT storeline_private.enable_shop_rls('core_warehouse.refund_shipping_lines');

CREATE TABLE core_warehouse.customers (
    shop_id          text NOT NULL,
    id               bigint NOT NULL,
    first_name       text,
    last_name        text,
    email            text,
    state            text,
    tags             text[] NOT NULL DEFAULT '{}',
    number_of_orders bigint,
    amount_spent     numeric,
    currency         text,
    created_at       timestamptz,
    updated_at       timestamptz,
    raw              jsonb NOT NULL,
    sync_job_id      bigint NOT NULL,
    synced_at        timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (shop_id, id)
);
CREATE INDEX customers_shop_job_idx ON core_warehouse.customers (shop_id, sync_job_id);
SELECT storeline_private.enable_shop_rls('core_warehouse.customers');
