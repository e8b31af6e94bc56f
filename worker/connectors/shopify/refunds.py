"""Refund line items and refunded shipping for orders a bulk export found refunds on.

Bulk files can only carry refund headers (a connection inside the `refunds` list is refused by
Shopify), so the orders with refunds are read back from staging in gid order (keyset pages, flat
memory) and asked for with `refund_details.graphql` (`nodes(ids:)`, `refund_batch` at a time).
An order whose refund has more children than a page holds is asked again alone with larger pages.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Callable, Mapping
from typing import Any

import asyncpg
import orjson

from storeline.sql import queries
from worker.connectors.shopify.client import ShopifyClient
from worker.connectors.shopify.documents import document
from worker.connectors.shopify.records import Record, refund_records
from worker.connectors.shopify.settings import ShopifySettings
from worker.errors import TerminalError

_FIRST = re.compile(r"\(first: \d+\)")
_SCAN_PAGE = 1000


async def refunded_order_ids(pool: asyncpg.Pool, job_id: int) -> AsyncIterator[list[str]]:
    """Batches of the gids of this job's staged orders that have at least one refund."""
    sql = queries("staging_ingest")["shopify_connector_refunded_orders"]
    after = ""
    while True:
        async with pool.acquire() as conn:
            rows = await conn.fetch(sql, job_id, after, _SCAN_PAGE)
        if not rows:
            return
        yield [str(r["gid"]) for r in rows]
        after = str(rows[-1]["gid"])


async def refund_detail_lines(
    client: ShopifyClient,
    settings: ShopifySettings,
    order_ids: AsyncIterator[list[str]],
    check_cancelled: Callable[[], None],
) -> AsyncIterator[bytes]:
    """Refund/RefundLineItem/RefundShippingLine lines (records.py) for the given orders."""
    async for ids in order_ids:
        for start in range(0, len(ids), settings.refund_batch):
            check_cancelled()
            batch = ids[start : start + settings.refund_batch]
            result = await client.graphql(document("refund_details"), {"ids": batch})
            for node in result.data.get("nodes") or []:
                if not isinstance(node, Mapping):
                    continue  # deleted since the export: the deletion feed handles it
                records, truncated = refund_records(node.get("id"), node.get("refunds"))
                if truncated:
                    records = await _single(client, str(node.get("id")))
                for record in records:
                    yield orjson.dumps(record)


async def _single(client: ShopifyClient, order_id: str) -> list[Record]:
    """One order's refunds with pages large enough for any real refund."""
    text = _FIRST.sub("(first: 100)", document("refund_details"))
    result = await client.graphql(text, {"ids": [order_id]})
    nodes: list[Any] = list(result.data.get("nodes") or [])
    node = nodes[0] if nodes and isinstance(nodes[0], Mapping) else {}
    records, truncated = refund_records(node.get("id"), node.get("refunds"))
    if truncated:
        raise TerminalError(
            "a Shopify refund has more than 100 line items; not supported yet",
            code="shopify_refund_too_large",
        )
    return records
