"""RefundPrefetch over loopback HTTP: refund details fetched while an export would still run
describe exactly the orders file's snapshot: every order the file lists refunds for, with every
refund the file names, and nothing for orders the file does not show."""

from __future__ import annotations

import json
from collections import Counter

import orjson

from sandbox.server import RunningSandbox
from sandbox.shopify import generate
from storeline.platforms.shopify.client import ShopifyClient
from storeline.platforms.shopify.refund_prefetch import RefundPrefetch
from tests.platforms.shopify.connector_support import sandbox_settings


def _order_line(order_id: int, refund_ids: list[int]) -> bytes:
    refunds = [{"id": f"gid://shopify/Refund/{r}"} for r in refund_ids]
    order = {"__typename": "Order", "id": f"gid://shopify/Order/{order_id}", "refunds": refunds}
    # Odd orders spaced like json.dumps: the watcher must not depend on compact JSON.
    return json.dumps(order).encode() if order_id % 2 else orjson.dumps(order)


async def test_details_cover_the_file_and_only_the_file(sandbox: RunningSandbox) -> None:
    shop = sandbox.world.shops["aurora-goods.myshopify.com"]
    refunded = [o for o in generate.iter_orders(sandbox.world, shop) if o.refunds]
    assert len(refunded) >= 6
    in_file, not_in_file = refunded[: len(refunded) // 2], refunded[len(refunded) // 2 :]
    settings = sandbox_settings(sandbox, refund_batch=3, refund_concurrency=2)
    async with (
        ShopifyClient(shop.shop_id, shop.shopify_token, settings) as client,
        RefundPrefetch(client, settings, lambda: None) as prefetch,
    ):
        prefetch.discover()  # finds every refunded order, including those not in the file
        for order in in_file:
            prefetch.see(_order_line(order.id, [r.id for r in order.refunds]))
        prefetch.see(_order_line(10**12, []))  # no refunds: never asked for
        # The file names a refund the answers cannot carry (as if made after they were
        # fetched): that order is asked again once the file is loaded.
        stale = in_file[0]
        prefetch.see(_order_line(stale.id, [r.id for r in stale.refunds] + [999]))
        lines = [orjson.loads(line) async for line in prefetch.lines()]
        requests = client.requests

    refunds = {r["id"]: r["__parentId"] for r in lines if r["__typename"] == "Refund"}
    want = {
        f"gid://shopify/Refund/{r.id}": f"gid://shopify/Order/{o.id}"
        for o in in_file
        for r in o.refunds
    }
    assert refunds == want
    # An order asked for twice is loaded twice (the transform keeps the last copy): count ids.
    items = Counter(
        r["__parentId"]
        for r in {r["id"]: r for r in lines if r["__typename"] == "RefundLineItem"}.values()
    )
    assert items == Counter(
        {
            f"gid://shopify/Refund/{r.id}": len(r.refund_line_items)
            for o in in_file
            for r in o.refunds
            if r.refund_line_items
        }
    )
    assert prefetch.orders == len(in_file)
    assert not {f"gid://shopify/Order/{o.id}" for o in not_in_file} & set(refunds.values())
    # The stale order was asked again after the file loaded: its refunds came back twice.
    stale_refund = f"gid://shopify/Refund/{stale.refunds[0].id}"
    assert sum(1 for r in lines if r["id"] == stale_refund) == 2
    assert requests > 1
