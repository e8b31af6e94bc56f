"""Paged incrementals and bulk exports must type an order identically: the same orders loaded
from a bulk operation (+ refund details) and from orders_page.graphql pages give the same rows in
every core_warehouse table (everything but `raw` and the job bookkeeping)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import asyncpg
import httpx

from storeline.platforms.shopify.client import ShopifyClient
from storeline.platforms.shopify.documents import updated_since
from storeline.platforms.shopify.pages import PageOutcome, order_page_lines
from tests.fixtures.sandbox import FreshSandbox
from tests.platforms.shopify.connector_support import sandbox_settings
from tests.platforms.shopify.warehouse_support import bulk_lines, load_job, register_shops

SHOP = "berlin-botanics.myshopify.com"
# Six days of berlin-botanics: ~24 orders incl. refunds with refunded shipping. Pages carrying
# both currencies cost ~130 points per order, so a wider window mostly waits on the leaky bucket.
WINDOW = timedelta(days=6)
TABLES = ("orders", "order_line_items", "order_shipping_lines", "transactions", "refunds",
          "refund_line_items", "refund_shipping_lines")  # fmt: skip
BOOKKEEPING = ("raw", "sync_job_id", "synced_at", "details_sync_job_id", "mirror_version")


async def _typed(conn: asyncpg.Connection, table: str) -> list[Any]:
    """Every row's typed columns as JSON text, in key order."""
    drop = " - ".join(f"'{c}'" for c in BOOKKEEPING)
    rows = await conn.fetch(
        f"SELECT (to_jsonb(t) - {drop})::text AS row FROM core_warehouse.{table} AS t"
        " ORDER BY shop_id, id"
    )
    return [r["row"] for r in rows]


async def _snapshot_and_clear(conn: asyncpg.Connection) -> dict[str, list[Any]]:
    snapshot = {t: await _typed(conn, t) for t in TABLES}
    for table in TABLES:
        await conn.execute(f"DELETE FROM core_warehouse.{table}")
    return snapshot


async def test_pages_and_bulk_give_the_same_typed_rows(
    conn: asyncpg.Connection, fresh_sandbox: FreshSandbox
) -> None:
    sandbox = fresh_sandbox(platforms=["shopify"])  # a full API bucket of its own
    world = sandbox.world
    shop = world.shops[SHOP]
    search = updated_since(world.now() - WINDOW)
    await register_shops(conn, [shop])

    async with httpx.AsyncClient(timeout=30) as http:
        bulk = await bulk_lines(http, sandbox.urls["shopify"], shop, query_filter=search)
    await load_job(conn, job_id=1, shop_id=shop.shop_id, lines=bulk)
    from_bulk = await _snapshot_and_clear(conn)

    outcome = PageOutcome()
    async with ShopifyClient(shop.shop_id, shop.shopify_token, sandbox_settings(sandbox)) as client:
        pages = [
            line
            async for line in order_page_lines(
                client, sandbox_settings(sandbox), search, outcome, lambda: None
            )
        ]
    assert outcome.switch_from is None  # every order fitted in its page
    await load_job(conn, job_id=2, shop_id=shop.shop_id, lines=pages)
    from_pages = await _snapshot_and_clear(conn)

    assert outcome.orders == len(from_bulk["orders"]) > 10
    assert from_bulk["refund_line_items"], "the window must hold refunds"
    assert from_bulk["refund_shipping_lines"], "... and refunded shipping"
    for table in TABLES:
        assert from_pages[table] == from_bulk[table], table
