"""Nested GraphQL answers → the line shape of a bulk JSONL file, so one transform serves both.

A bulk file has one line per node of every connection; a nested node carries `__parentId`, the
gid of the node owning the connection. Storeline's lines (staging_ingest.shopify_bulk_rows):

  Order               {"__typename": "Order", "id", …scalars, "transactions": [...],
                       "refunds": [refund headers, no nested connections]}
  LineItem            {"__typename": "LineItem", "id", …, "__parentId": <Order gid>}
  ShippingLine        {"__typename": "ShippingLine", "id", …, "__parentId": <Order gid>}
  Refund              {"__typename": "Refund", "id", "createdAt", "updatedAt", "note",
                       "totalRefundedSet", "duties", "__parentId": <Order gid>}
  RefundLineItem      {"__typename": "RefundLineItem", "id", "lineItem": {"id"}, "quantity",
                       "restockType", "subtotalSet", "totalTaxSet", "__parentId": <Refund gid>}
  RefundShippingLine  {"__typename": "RefundShippingLine", "id", "shippingLine": {"id"},
                       "subtotalAmountSet", "taxAmountSet", "__parentId": <Refund gid>}
  OrderAdjustment     {"__typename": "OrderAdjustment", "id", "reason", "amountSet",
                       "taxAmountSet", "__parentId": <Refund gid>}
  Sale                {"__typename": "Sale", "id", "actionType", "lineType", "quantity",
                       "lineItem": {"id"}, "totalAmount", "totalTaxAmount", "agreement":
                       {"__typename", "id", "happenedAt"}, "__parentId": <Order gid>}
  Return              {"__typename": "Return", "id", "name", "status", "createdAt", "closedAt",
                       "returnLineItems", "returnShippingFees", "agreedAt",
                       "__parentId": <Order gid>}
  Customer            (bulk_customers.graphql, root lines)

Bulk order files carry Order/LineItem/ShippingLine lines (Shopify refuses connections inside the
`refunds` list), so Refund* lines come from refund_details.graphql for orders with refunds;
paginated incrementals produce all of them from one answer (orders_page.graphql selects the bulk
file's fields plus refund_details.graphql's, so both paths type a row identically). The same
gid may appear more than once in one job (page overlap, partial-then-retry, refund details):
every copy is the object as Shopify returned it at some moment of the job, and the transform
keeps the last one loaded.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

Record = dict[str, Any]

_ORDER_CONNECTIONS = {"lineItems": "LineItem", "shippingLines": "ShippingLine"}
_REFUND_CONNECTIONS = {
    "refundLineItems": "RefundLineItem",
    "refundShippingLines": "RefundShippingLine",
    "orderAdjustments": "OrderAdjustment",
}


def _nodes(connection: Any) -> Iterator[Mapping[str, Any]]:
    if not isinstance(connection, Mapping):
        return
    for edge in connection.get("edges") or []:
        node = edge.get("node") if isinstance(edge, Mapping) else None
        if isinstance(node, Mapping):
            yield node
    for node in connection.get("nodes") or []:
        if isinstance(node, Mapping):
            yield node


def _truncated(connection: Any) -> bool:
    """True when a nested connection has more nodes than the page held."""
    if not isinstance(connection, Mapping):
        return False
    info = connection.get("pageInfo")
    return isinstance(info, Mapping) and bool(info.get("hasNextPage"))


def _child(node: Mapping[str, Any], typename: str, parent: Any) -> Record:
    record: Record = {"__typename": typename}
    record.update(node)
    record["__parentId"] = parent
    return record


def refund_header(refund: Mapping[str, Any]) -> Record:
    return {k: v for k, v in refund.items() if k not in _REFUND_CONNECTIONS}


def refund_records(order_id: Any, refunds: Any) -> tuple[list[Record], bool]:
    """Refund, RefundLineItem and RefundShippingLine lines of one order's `refunds` list."""
    records: list[Record] = []
    truncated = False
    for refund in refunds or []:
        if not isinstance(refund, Mapping):
            continue
        records.append(_child(refund_header(refund), "Refund", order_id))
        for field, typename in _REFUND_CONNECTIONS.items():
            connection = refund.get(field)
            truncated = truncated or _truncated(connection)
            records.extend(_child(n, typename, refund.get("id")) for n in _nodes(connection))
    return records, truncated


def order_records(order: Mapping[str, Any]) -> tuple[list[Record], bool]:
    """Every line of one order from orders_page.graphql; True if a nested page was cut short."""
    head: Record = {"__typename": "Order"}
    head.update((k, v) for k, v in order.items() if k not in _ORDER_CONNECTIONS)
    refunds = order.get("refunds")
    if isinstance(refunds, list):
        head["refunds"] = [refund_header(r) for r in refunds if isinstance(r, Mapping)]
    records = [head]
    truncated = False
    for field, typename in _ORDER_CONNECTIONS.items():
        connection = order.get(field)
        truncated = truncated or _truncated(connection)
        records.extend(_child(n, typename, order.get("id")) for n in _nodes(connection))
    refund_lines, refunds_cut = refund_records(order.get("id"), refunds)
    records.extend(refund_lines)
    return records, truncated or refunds_cut
