"""Refund line items and refunded shipping for orders a bulk export found refunds on.

Bulk files can only carry refund headers (a connection inside the `refunds` list is refused by
Shopify), so the orders with refunds are asked for with `refund_details.graphql` (`nodes(ids:)`,
`refund_batch` at a time). A backfill asks while its export still runs (refund_prefetch.py);
an incremental, or a job resumed after its orders file was loaded, reads the orders with refunds
back from staging (`refunded_order_ids`, keyset pages, flat memory). A refund with more children
than a page holds is paged (refund_pages.py).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Mapping
from contextlib import AbstractAsyncContextManager

import asyncpg

from storeline.platforms.shopify.client import ShopifyClient
from storeline.platforms.shopify.documents import document
from storeline.platforms.shopify.records import Record, refund_records
from storeline.platforms.shopify.refund_pages import complete_refunds
from storeline.platforms.shopify.settings import ShopifySettings
from storeline.platforms.shopify.sql import queries

_SCAN_PAGE = 1000


async def refunded_order_ids(
    connection: Callable[[], AbstractAsyncContextManager[asyncpg.Connection]], job_id: int
) -> AsyncIterator[list[str]]:
    """Batches of the gids of this job's staged orders that have at least one refund
    (`connection`: the job context's watched connections)."""
    sql = queries()["shopify_connector_refunded_orders"]
    after = ""
    while True:
        async with connection() as conn:
            rows = await conn.fetch(sql, job_id, after, _SCAN_PAGE)
        if not rows:
            return
        yield [str(r["gid"]) for r in rows]
        after = str(rows[-1]["gid"])


async def refund_detail_records(
    client: ShopifyClient,
    settings: ShopifySettings,
    order_ids: AsyncIterator[list[str]],
    check_cancelled: Callable[[], None],
) -> AsyncIterator[tuple[str, Record]]:
    """(order gid, Refund/RefundLineItem/RefundShippingLine record) for the given orders."""
    async for ids in order_ids:
        for start in range(0, len(ids), settings.refund_batch):
            check_cancelled()
            batch = ids[start : start + settings.refund_batch]
            result = await client.graphql(document("refund_details"), {"ids": batch})
            for node in result.data.get("nodes") or []:
                if not isinstance(node, Mapping):
                    continue  # deleted since the export: the deletion feed handles it
                records, truncated = refund_records(node.get("id"), node.get("refunds"))
                if truncated:  # a refund with more children than one page holds
                    records = await complete_refunds(client, settings, node)
                for record in records:
                    yield str(node.get("id")), record
