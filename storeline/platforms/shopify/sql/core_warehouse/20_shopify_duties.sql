-- Duties and additional fees (revision 0005): Shopify's "Total sales" is net sales + shipping +
-- duties + additional fees + taxes, so the amounts that feed it are typed columns, not just raw.
--
-- orders: the order's duties and additional fees in shop money, as charged at checkout
-- (original*: Order.originalTotalDutiesSet / originalTotalAdditionalFeesSet, on the order's
-- day) and after refunds (current*). NULL when Shopify sent null (no duties / fees apply).
-- refunds.duties: Σ Refund.duties.amountSet (shop money), the duties a refund gave back; they
-- count negative on the refund's day. Filled from the refund headers of the job's Order lines
-- (bulk and pages both carry them), so a refund-details carrier without duties never zeroes it.
ALTER TABLE core_warehouse.orders
    ADD COLUMN original_total_duties          numeric,
    ADD COLUMN current_total_duties           numeric,
    ADD COLUMN original_total_additional_fees numeric,
    ADD COLUMN current_total_additional_fees  numeric;

ALTER TABLE core_warehouse.refunds
    ADD COLUMN duties numeric NOT NULL DEFAULT 0;
