"""Order edits, returns and refunded fees of a job's orders: the sales and fees Shopify's report
books on the day of the edit, the return or the refund (docs/shopify-sales-report.md rules 1, 2,
7, 13, 14).

Agreements and their sales sit two connections deep, too deep for the bulk file and too dear for
every page, so only the orders whose staged line says `edited` or a `returnStatus` other than
NO_RETURN, or whose current additional fees are below the original, are asked for
(order_agreements.graphql, `AGREEMENT_BATCH` at a time), once the job's orders are staged. Each
answer becomes bulk-shaped lines: one `Sale` per ProductSale of an OrderEditAgreement or
ReturnAgreement and per AdditionalFeeSale of a RefundAgreement (carrying its agreement's id,
type and happenedAt) and one `Return` per return (its fees, and `agreedAt`: the earliest
ReturnAgreement naming it).

An agreement with more sales than one page (a big edit) or a return with more lines is completed
with order_agreement_rest.graphql before its records are made, so money is never dropped: the
agreement (not a node) is reached again through its order from the cursor of the edge before it.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Mapping
from contextlib import AbstractAsyncContextManager
from typing import Any

import asyncpg

from storeline.platforms.shopify.client import ShopifyClient
from storeline.platforms.shopify.documents import document
from storeline.platforms.shopify.records import Record
from storeline.platforms.shopify.sql import queries
from storeline.worker.errors import TerminalError, TransientError

AGREEMENT_BATCH = 4  # 4 orders request ~770 of the 1000 points a query may ask for
REST_PAGE = 50  # sales or return lines per order_agreement_rest.graphql page
_SCAN_PAGE = 1000
_KINDS = ("OrderEditAgreement", "ReturnAgreement", "RefundAgreement")


async def agreement_order_ids(
    connection: Callable[[], AbstractAsyncContextManager[asyncpg.Connection]], job_id: int
) -> AsyncIterator[list[str]]:
    """Batches of the gids of this job's staged orders that have edits or returns."""
    sql = queries()["shopify_connector_agreement_orders"]
    after = ""
    while True:
        async with connection() as conn:
            rows = await conn.fetch(sql, job_id, after, _SCAN_PAGE)
        if not rows:
            return
        yield [str(r["gid"]) for r in rows]
        after = str(rows[-1]["gid"])


async def agreement_records(
    client: ShopifyClient,
    order_ids: AsyncIterator[list[str]],
    check_cancelled: Callable[[], None],
) -> AsyncIterator[Record]:
    """The Sale and Return lines of the given orders, every agreement and return page read."""
    async for ids in order_ids:
        for start in range(0, len(ids), AGREEMENT_BATCH):
            check_cancelled()
            batch = ids[start : start + AGREEMENT_BATCH]
            result = await client.graphql(document("order_agreements"), _variables(batch))
            for node in result.data.get("nodes") or []:
                if not isinstance(node, Mapping) or not isinstance(node.get("id"), str):
                    continue  # deleted since it was staged: the deletion feed handles it
                order_id = str(node["id"])
                agreements = _edges(node.get("agreements"), None)
                returns = _edges(node.get("returns"), None)
                agreements += await _rest(client, node, "agreements", check_cancelled)
                returns += await _rest(client, node, "returns", check_cancelled)
                whole_agreements = [
                    await _completed(client, order_id, "agreement", e, check_cancelled)
                    for e in agreements
                ]
                whole_returns = [
                    await _completed(client, order_id, "return", e, check_cancelled)
                    for e in returns
                ]
                for record in order_records(order_id, whole_agreements, whole_returns):
                    yield record


def order_records(
    order_id: str, agreements: list[Mapping[str, Any]], returns: list[Mapping[str, Any]]
) -> list[Record]:
    """Bulk-shaped lines of one order's edit/return agreements (their sales) and returns."""
    records: list[Record] = []
    agreed: dict[str, str] = {}  # return gid → earliest ReturnAgreement.happenedAt
    for agreement in agreements:
        kind = agreement.get("__typename")
        if kind not in _KINDS:
            continue  # the original OrderAgreement: read from the lines
        returned = agreement.get("return")
        happened = agreement.get("happenedAt")
        if isinstance(returned, Mapping) and isinstance(happened, str):
            key = str(returned.get("id"))
            agreed[key] = min(agreed.get(key, happened), happened)
        sales = agreement.get("sales")
        _whole(sales, "sales of an order agreement")
        head = {"__typename": kind, "id": agreement.get("id"), "happenedAt": happened}
        for sale in _nodes(sales):
            if kind == "RefundAgreement" and sale.get("__typename") != "AdditionalFeeSale":
                continue  # a refund's goods and shipping are read from Order.refunds
            record: Record = {**sale, "__typename": "Sale", "saleType": sale.get("__typename")}
            record["agreement"] = head
            record["__parentId"] = order_id
            records.append(record)
    for ret in returns:
        _whole(ret.get("returnLineItems"), "lines of a return")
        record = {**ret, "__typename": "Return", "agreedAt": agreed.get(str(ret.get("id")))}
        record["__parentId"] = order_id
        records.append(record)
    return records


def _variables(ids: list[str], **after: str) -> dict[str, Any]:
    return {
        "ids": ids,
        "agreements": not after or "agreementsAfter" in after,
        "returns": not after or "returnsAfter" in after,
        **after,
    }


# An agreement or a return, with the cursor of the edge before it (None: the first).
_Edge = tuple[str | None, Mapping[str, Any]]
# kind → (its connection on Order, its inner connection, the rest query's variables)
_INNER = {
    "agreement": ("agreements", "sales", "agreementAfter", "salesAfter"),
    "return": ("returns", "returnLineItems", "returnAfter", "linesAfter"),
}


async def _rest(
    client: ShopifyClient,
    node: Mapping[str, Any],
    field: str,
    check_cancelled: Callable[[], None],
) -> list[_Edge]:
    """The pages of one order's `field` connection after the first."""
    found: list[_Edge] = []
    connection = node.get(field)
    while (cursor := _next_cursor(connection)) is not None:
        check_cancelled()
        variables = _variables([str(node["id"])], **{f"{field}After": cursor})
        result = await client.graphql(document("order_agreements"), variables)
        pages = [n for n in result.data.get("nodes") or [] if isinstance(n, Mapping)]
        if not pages:
            return found  # deleted meanwhile: the deletion feed handles it
        connection = pages[0].get(field)
        found.extend(_edges(connection, cursor))
    return found


async def _completed(
    client: ShopifyClient,
    order_id: str,
    kind: str,
    edge: _Edge,
    check_cancelled: Callable[[], None],
) -> Mapping[str, Any]:
    """The agreement or return of `edge` with every page of its sales / lines."""
    before, item = edge
    outer, inner, item_after, inner_after = _INNER[kind]
    connection = item.get(inner)
    if _next_cursor(connection) is None:
        return item
    rows = _nodes(connection)
    while (cursor := _next_cursor(connection)) is not None:
        check_cancelled()
        variables = {
            "id": order_id,
            "first": REST_PAGE,
            "agreement": kind == "agreement",
            "return": kind == "return",
            item_after: before,
            inner_after: cursor,
        }
        result = await client.graphql(document("order_agreement_rest"), variables)
        order = result.data.get("node")
        found = _nodes(order.get(outer)) if isinstance(order, Mapping) else []
        if not found or found[0].get("id") != item.get("id"):
            raise TransientError(  # deleted or changed meanwhile: the next attempt reads again
                f"a Shopify order's {kind} moved while its pages were read",
                code="shopify_agreement_pages",
            )
        connection = found[0].get(inner)
        rows.extend(_nodes(connection))
    return {**item, inner: {"pageInfo": {"hasNextPage": False}, "nodes": rows}}


def _edges(connection: Any, after: str | None) -> list[_Edge]:
    """The connection's nodes, each with the cursor of the edge before it (`after` first)."""
    out: list[_Edge] = []
    before = after
    for edge in connection.get("edges") or [] if isinstance(connection, Mapping) else []:
        if not isinstance(edge, Mapping) or not isinstance(edge.get("node"), Mapping):
            continue
        out.append((before, edge["node"]))
        before = edge.get("cursor") if isinstance(edge.get("cursor"), str) else None
    return out


def _nodes(connection: Any) -> list[Mapping[str, Any]]:
    if not isinstance(connection, Mapping):
        return []
    edges = [e.get("node") for e in connection.get("edges") or [] if isinstance(e, Mapping)]
    return [n for n in [*edges, *(connection.get("nodes") or [])] if isinstance(n, Mapping)]


def _next_cursor(connection: Any) -> str | None:
    if not isinstance(connection, Mapping):
        return None
    info = connection.get("pageInfo")
    if not isinstance(info, Mapping) or not info.get("hasNextPage"):
        return None
    cursor = info.get("endCursor")
    if not isinstance(cursor, str) or not cursor:
        raise TerminalError(
            "Shopify reported more order agreements or returns without a cursor to fetch them",
            code="shopify_agreement_pages",
        )
    return cursor


def _whole(connection: Any, what: str) -> None:
    """Money must never be dropped: a nested page cut short fails the job (cursor unmoved)."""
    info = connection.get("pageInfo") if isinstance(connection, Mapping) else None
    if isinstance(info, Mapping) and info.get("hasNextPage"):
        raise TerminalError(
            f"a Shopify order has more {what} than one page holds", code="shopify_agreement_pages"
        )
