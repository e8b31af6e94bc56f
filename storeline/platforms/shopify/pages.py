"""Small incrementals: `orders_page.graphql` pages turned into bulk-shaped lines as they arrive.

Pages are sorted by UPDATED_AT, so every order yielded so far is complete and the newest
`updatedAt` seen is where a bulk operation can take over. That happens when the window turns out
large (more than `page_limit` pages) or when an order has more nested children than a page holds
(`pageInfo.hasNextPage` on a nested connection): the generator stops cleanly and reports
`switch_from`, so the rows already streamed into staging stay valid.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from datetime import datetime

import orjson

from storeline.platforms.shopify.client import ShopifyClient
from storeline.platforms.shopify.documents import document, parse_time
from storeline.platforms.shopify.records import order_records
from storeline.platforms.shopify.settings import ShopifySettings

# orders_page.graphql requests ~330 cost points per order (the same fields as the bulk file,
# both currencies, nested refund details and order adjustments): 3 orders (989 in the sandbox's
# cost model) is the largest page under Shopify's 1000-point ceiling for a single query. Refunds
# with more than 4 lines send the rest of the window through bulk (orders_page.graphql).
PAGE_FIRST_MAX = 3


@dataclass
class PageOutcome:
    orders: int = 0
    pages: int = 0
    newest: datetime | None = None
    # Set when the rest of the window (updated_at >= switch_from) must go through bulk.
    switch_from: datetime | None = None


async def order_page_lines(
    client: ShopifyClient,
    settings: ShopifySettings,
    search: str,
    outcome: PageOutcome,
    check_cancelled: Callable[[], None],
) -> AsyncIterator[bytes]:
    """JSONL lines of every order matching `search`, page by page (see the module docstring)."""
    after: str | None = None
    while True:
        check_cancelled()
        first = min(settings.page_size, PAGE_FIRST_MAX)
        variables = {"first": first, "after": after, "query": search or None}
        result = await client.graphql(document("orders_page"), variables)
        connection = result.data.get("orders") or {}
        outcome.pages += 1
        last: datetime | None = None
        for edge in connection.get("edges") or []:
            node = edge.get("node") or {}
            updated = parse_time(str(node["updatedAt"]))
            records, truncated = order_records(node)
            if truncated:
                outcome.switch_from = updated
                return
            for record in records:
                yield orjson.dumps(record)
            outcome.orders += 1
            last = updated
            outcome.newest = updated if outcome.newest is None else max(outcome.newest, updated)
        info = connection.get("pageInfo") or {}
        if not info.get("hasNextPage"):
            return
        if outcome.pages >= settings.page_limit:
            outcome.switch_from = last or outcome.newest
            return
        after = info.get("endCursor")
