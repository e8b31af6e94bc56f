-- Order shapes of docs/shopify-sales-report.md (revision 0016, issues 13 and 22): the facts the
-- transform (queries/warehouse.sql) fills so that reporting.shopify_daily_kpis
-- (reporting/75_shopify_daily_kpis.sql) books edits, returns and order adjustments.
--
-- Rule 8: refunded money on no refund line (Refund.orderAdjustments: goodwill refunds, lines
-- refunded at 0.00) — Σ amountSet (negative when money goes back) and Σ taxAmountSet, from the
-- refund details. Rows written before this revision hold 0 until their order is synced again.
ALTER TABLE core_warehouse.refunds
    ADD COLUMN adjustments     numeric NOT NULL DEFAULT 0,
    ADD COLUMN adjustments_tax numeric NOT NULL DEFAULT 0;

-- Rules 1, 2, 7: the ProductSales of an order's OrderEditAgreements and ReturnAgreements
-- (agreements.py). An ORDER sale sells its line on sale_date (a line added by an edit, an
-- exchange item), an edit's RETURN sale takes units back on sale_date with no refund. Amounts
-- are shop money as Shopify signs them (RETURN sales negative); total_amount is after discounts
-- and taxes. sale_date = the agreement's happenedAt in the shop's timezone.
CREATE TABLE core_warehouse.order_sales (
    shop_id        text NOT NULL,
    id             bigint NOT NULL,
    order_id       bigint NOT NULL,
    agreement_id   bigint NOT NULL,
    agreement_type text NOT NULL,
    happened_at    timestamptz NOT NULL,
    sale_date      date NOT NULL,
    action_type    text NOT NULL,
    line_type      text,
    line_item_id   bigint,
    quantity       integer,
    total_amount   numeric NOT NULL,
    total_tax      numeric NOT NULL,
    raw            jsonb NOT NULL,
    sync_job_id    bigint NOT NULL,
    PRIMARY KEY (shop_id, id)
);
CREATE INDEX order_sales_order_idx ON core_warehouse.order_sales (shop_id, order_id);
CREATE INDEX order_sales_day_idx ON core_warehouse.order_sales (shop_id, sale_date);
CREATE INDEX order_sales_line_idx ON core_warehouse.order_sales (shop_id, line_item_id);
SELECT storeline_private.enable_shop_rls('core_warehouse.order_sales');

-- Rule 14: an order's returns and the fees the merchant keeps on them (Σ returnLineItems
-- restockingFee + Σ returnShippingFees), on the day of the earliest ReturnAgreement naming the
-- return (booked_at: when it was processed). A return no agreement names yet (requested, not
-- processed) is stored with booked_at NULL and books nothing.
CREATE TABLE core_warehouse.order_returns (
    shop_id        text NOT NULL,
    id             bigint NOT NULL,
    order_id       bigint NOT NULL,
    name           text,
    status         text,
    created_at     timestamptz,
    booked_at      timestamptz,
    return_date    date,
    restocking_fees      numeric NOT NULL DEFAULT 0,
    return_shipping_fees numeric NOT NULL DEFAULT 0,
    raw            jsonb NOT NULL,
    sync_job_id    bigint NOT NULL,
    PRIMARY KEY (shop_id, id)
);
CREATE INDEX order_returns_order_idx ON core_warehouse.order_returns (shop_id, order_id);
CREATE INDEX order_returns_day_idx ON core_warehouse.order_returns (shop_id, return_date);
SELECT storeline_private.enable_shop_rls('core_warehouse.order_returns');
