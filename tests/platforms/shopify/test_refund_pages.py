"""A refund with more children than one page holds is paged to the end over loopback HTTP
(refund_children.graphql against the sandbox's Refund node), not refused: with a page of one
line every multi-line refund exercises the path."""

from __future__ import annotations

from collections import Counter

from sandbox.server import RunningSandbox
from sandbox.shopify import generate
from storeline.platforms.shopify.client import ShopifyClient
from storeline.platforms.shopify.documents import document
from storeline.platforms.shopify.refund_pages import complete_refunds
from tests.platforms.shopify.connector_support import sandbox_settings


async def test_a_refund_larger_than_a_page_is_paged_whole(sandbox: RunningSandbox) -> None:
    shop = sandbox.world.shops["aurora-goods.myshopify.com"]
    order = next(
        o
        for o in generate.iter_orders(sandbox.world, shop)
        if any(len(r.refund_line_items) >= 3 for r in o.refunds)
    )
    settings = sandbox_settings(sandbox, refund_page=1)
    first_page = document("refund_details").replace("(first: 10)", "(first: 1)")
    async with ShopifyClient(shop.shop_id, shop.shopify_token, settings) as client:
        answer = await client.graphql(first_page, {"ids": [f"gid://shopify/Order/{order.id}"]})
        node = answer.data["nodes"][0]
        assert any(r["refundLineItems"]["pageInfo"]["hasNextPage"] for r in node["refunds"])
        before = client.requests
        records = await complete_refunds(client, settings, node)
        pages = client.requests - before

    got = Counter(
        (r["__parentId"], r["lineItem"]["id"], r["quantity"])
        for r in records
        if r["__typename"] == "RefundLineItem"
    )
    want = Counter(
        (f"gid://shopify/Refund/{r.id}", f"gid://shopify/LineItem/{li.line_item_id}", li.quantity)
        for r in order.refunds
        for li in r.refund_line_items
    )
    assert got == want
    assert len({r["id"] for r in records if r["__typename"] == "RefundLineItem"}) == sum(
        want.values()
    )
    # one request per line beyond the first of each refund (page size 1; shipping fits)
    assert all(len(r.refund_shipping_lines) <= 2 for r in order.refunds)
    assert pages == sum(max(len(r.refund_line_items) - 1, 0) for r in order.refunds)
