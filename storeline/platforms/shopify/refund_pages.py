"""Refunds too large for refund_details.graphql's pages (wholesale orders returning hundreds of
lines): the rest of each cut-short connection is paged with refund_children.graphql and merged
into the refund before records.py flattens it, so a refund of any size is loaded whole instead
of failing the job.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from storeline.platforms.shopify.client import ShopifyClient
from storeline.platforms.shopify.documents import document
from storeline.platforms.shopify.records import Record, refund_records
from storeline.platforms.shopify.settings import ShopifySettings
from storeline.worker.errors import TerminalError

# connection field → the query's (include flag, cursor) variables
_CONNECTIONS = {
    "refundLineItems": ("lines", "linesAfter"),
    "refundShippingLines": ("shipping", "shippingAfter"),
    "orderAdjustments": ("adjustments", "adjustmentsAfter"),
}


async def complete_refunds(
    client: ShopifyClient, settings: ShopifySettings, order: Mapping[str, Any]
) -> list[Record]:
    """Every refund record of one `nodes(ids:)` Order answer, paging what was cut short."""
    refunds = [dict(r) for r in order.get("refunds") or [] if isinstance(r, Mapping)]
    for refund in refunds:
        await _page_rest(client, settings, refund)
    records, truncated = refund_records(order.get("id"), refunds)
    if truncated:  # _page_rest pages until hasNextPage is false: unreachable unless it lies
        raise TerminalError("a Shopify refund never finished paging", code="shopify_refund_pages")
    return records


async def _page_rest(
    client: ShopifyClient, settings: ShopifySettings, refund: dict[str, Any]
) -> None:
    cursors = {field: _next_cursor(refund.get(field)) for field in _CONNECTIONS}
    while any(cursors.values()):
        variables: dict[str, Any] = {"id": refund.get("id"), "first": settings.refund_page}
        for field, (flag, after) in _CONNECTIONS.items():
            variables[flag] = cursors[field] is not None
            variables[after] = cursors[field]
        result = await client.graphql(document("refund_children"), variables)
        node = result.data.get("node")
        if not isinstance(node, Mapping):
            return  # the refund's order was deleted meanwhile: the deletion feed handles it
        for field, cursor in cursors.items():
            if cursor is None:
                continue
            page = _mapping(node.get(field))
            known = _mapping(refund.get(field))
            refund[field] = {
                "pageInfo": page.get("pageInfo"),
                "edges": [*(known.get("edges") or []), *(page.get("edges") or [])],
            }
            cursors[field] = _next_cursor(refund[field])


def _mapping(value: Any) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}


def _next_cursor(connection: Any) -> str | None:
    """The cursor to continue from, or None when the connection is complete."""
    if not isinstance(connection, Mapping):
        return None
    info = connection.get("pageInfo")
    if not isinstance(info, Mapping) or not info.get("hasNextPage"):
        return None
    cursor = info.get("endCursor")
    if not isinstance(cursor, str) or not cursor:
        raise TerminalError(
            "Shopify reported more refund lines without a cursor to fetch them",
            code="shopify_refund_pages",
        )
    return cursor
