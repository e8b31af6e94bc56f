"""Orders deleted in the Shopify admin, from the events feed (`deleted_orders.graphql`).

A deleted order simply vanishes from `orders`, so an incremental would never notice it; the
`destroy` events of subject type ORDER are the only trace. Events are kept for a year; historical
jobs do not need them (they prune every order the full export did not see).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from storeline.platforms.shopify.client import ShopifyClient
from storeline.platforms.shopify.documents import document, iso, parse_time
from storeline.platforms.shopify.settings import ShopifySettings


@dataclass(frozen=True)
class Deletion:
    order_id: str  # Order gid
    deleted_at: datetime


async def deleted_orders(
    client: ShopifyClient,
    settings: ShopifySettings,
    since: datetime,
    check_cancelled: Callable[[], None],
) -> list[Deletion]:
    """Every order deletion recorded at or after `since`, oldest first."""
    search = f"subject_type:ORDER AND action:destroy AND created_at:>='{iso(since)}'"
    found: list[Deletion] = []
    after: str | None = None
    while True:
        check_cancelled()
        variables = {"first": settings.events_page_size, "after": after, "query": search}
        result = await client.graphql(document("deleted_orders"), variables)
        connection = result.data.get("events") or {}
        for edge in connection.get("edges") or []:
            node = edge.get("node") or {}
            subject = node.get("subjectId")
            if node.get("action") != "destroy" or node.get("subjectType") != "ORDER" or not subject:
                continue
            found.append(Deletion(str(subject), parse_time(str(node["createdAt"]))))
        info = connection.get("pageInfo") or {}
        if not info.get("hasNextPage"):
            return found
        after = info.get("endCursor")
