-- Queries the Shopify connector (storeline/platforms/shopify) runs against its own staging rows.
-- The table and its other queries belong to 10_shopify.sql / shopify.sql.

-- name: shopify_connector_refunded_orders
-- Keyset page ($2 = last gid of the previous page, '' first) of this job's staged orders that
-- have refunds: their refund line items are fetched separately (bulk files cannot hold them).
SELECT DISTINCT gid
FROM staging_ingest.shopify_bulk_rows
WHERE sync_job_id = $1
  AND typename = 'Order'
  AND gid > $2
  AND jsonb_typeof(payload -> 'refunds') = 'array'
  AND jsonb_array_length(payload -> 'refunds') > 0
ORDER BY gid
LIMIT $3

-- name: shopify_connector_agreement_orders
-- Keyset page ($2 = last gid of the previous page, '' first) of this job's staged orders that
-- were edited or have returns (Order.edited, Order.returnStatus) or gave additional fees back
-- (current below original: rule 13): their agreements, sales and returns are fetched
-- separately (agreements.py, order_agreements.graphql).
SELECT DISTINCT gid
FROM staging_ingest.shopify_bulk_rows
WHERE sync_job_id = $1
  AND typename = 'Order'
  AND gid > $2
  AND payload ? 'createdAt'
  AND (payload ->> 'edited' = 'true'
       OR coalesce(payload ->> 'returnStatus', 'NO_RETURN') <> 'NO_RETURN'
       OR (payload -> 'currentTotalAdditionalFeesSet' -> 'shopMoney' ->> 'amount')::numeric
          < (payload -> 'originalTotalAdditionalFeesSet' -> 'shopMoney' ->> 'amount')::numeric)
ORDER BY gid
LIMIT $3
