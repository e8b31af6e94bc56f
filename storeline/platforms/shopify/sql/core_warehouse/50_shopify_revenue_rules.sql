-- Revenue rules of docs/shopify-sales-report.md (revision 0015, issue 13): the columns the
-- transform (queries/warehouse.sql) fills so that reporting.shopify_daily_kpis
-- (reporting/75_shopify_daily_kpis.sql) stays a sum.
--
-- Rule 5: LineItem.isGiftCard lines are never gross sales, discounts or returns (a gift card
-- sold is a liability). Rows written before this revision are read from their stored payload.
ALTER TABLE core_warehouse.order_line_items
    ADD COLUMN is_gift_card boolean NOT NULL DEFAULT false;
UPDATE core_warehouse.order_line_items SET is_gift_card = true
WHERE (raw ->> 'isGiftCard')::boolean;

-- Rule 3: with Order.taxesIncluded a line's original price contains its tax; the sales report's
-- gross is the price less that tax, each tax line's share price·r/(1+R) (R = Σ the line's rates)
-- rounded to the cent half-even as Shopify rounds its tax lines (help.shopify.com "Include
-- taxes in product prices"). `tax_lines` is order_line_items.tax_lines (TaxLine nodes).
CREATE FUNCTION storeline_private.shopify_round_cents(v numeric) RETURNS numeric
    LANGUAGE sql IMMUTABLE PARALLEL SAFE
AS $$
SELECT CASE WHEN abs(v * 100 - trunc(v * 100)) = 0.5
            THEN (trunc(v * 100) + CASE WHEN mod(trunc(v * 100), 2) = 0 THEN 0 ELSE sign(v) END)
                 / 100
            ELSE round(v, 2) END
$$;

CREATE FUNCTION storeline_private.shopify_tax_contained(amount numeric, tax_lines jsonb)
    RETURNS numeric
    LANGUAGE sql IMMUTABLE PARALLEL SAFE
AS $$
SELECT coalesce(sum(storeline_private.shopify_round_cents(
           amount * (t ->> 'rate')::numeric / (1 + r.total))), 0)
FROM (SELECT coalesce(sum((t2 ->> 'rate')::numeric), 0) AS total
      FROM jsonb_array_elements(coalesce(tax_lines, '[]')) AS t2) AS r
CROSS JOIN jsonb_array_elements(coalesce(tax_lines, '[]')) AS t
$$;

-- Rule 11: tax charged on duties (Duty.taxLines, per line item) and on additional fees
-- (AdditionalFee.taxLines, per order) is in taxes on the order's day; the tax of refunded duties
-- (RefundDuty.originalDuty.taxLines) leaves taxes on the refund's day. Rows written before this
-- revision hold 0 until their order is synced again (their payloads never selected the taxes).
ALTER TABLE core_warehouse.order_line_items ADD COLUMN duties_tax numeric NOT NULL DEFAULT 0;
ALTER TABLE core_warehouse.orders ADD COLUMN additional_fees_tax numeric NOT NULL DEFAULT 0;
ALTER TABLE core_warehouse.refunds ADD COLUMN duties_tax numeric NOT NULL DEFAULT 0;
UPDATE core_warehouse.orders AS o SET additional_fees_tax = x.tax
FROM (SELECT o2.shop_id, o2.id,
             sum((t -> 'priceSet' -> 'shopMoney' ->> 'amount')::numeric) AS tax
      FROM core_warehouse.orders AS o2
      CROSS JOIN jsonb_array_elements(coalesce(o2.raw -> 'additionalFees', '[]')) AS f
      CROSS JOIN jsonb_array_elements(coalesce(f -> 'taxLines', '[]')) AS t
      GROUP BY o2.shop_id, o2.id) AS x
WHERE o.shop_id = x.shop_id AND o.id = x.id AND x.tax IS NOT NULL AND x.tax <> 0;
