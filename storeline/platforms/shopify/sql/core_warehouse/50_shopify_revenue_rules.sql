-- Revenue rules of docs/shopify-sales-report.md (revision 0015, issue 13): the columns the
-- transform (queries/warehouse.sql) fills so that reporting.shopify_daily_kpis
-- (reporting/40_shopify_revenue_rules.sql) stays a sum.
--
-- Rule 5: LineItem.isGiftCard lines are never gross sales, discounts or returns (a gift card
-- sold is a liability). Rows written before this revision are read from their stored payload.
ALTER TABLE core_warehouse.order_line_items
    ADD COLUMN is_gift_card boolean NOT NULL DEFAULT false;
UPDATE core_warehouse.order_line_items SET is_gift_card = true
WHERE (raw ->> 'isGiftCard')::boolean;
