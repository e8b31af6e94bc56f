"""Keep app_dashboard.shops in step with the shop's own settings (timezone, currency).

Shopify's reports bucket all history by the shop's CURRENT timezone, so a merchant's timezone change
must move every stored day: writing the new timezone fires the shops_timezone_restamp trigger
(storeline/platforms/shopify/sql/core_warehouse/30_shopify_restamp.sql), which restamps the shop's
days and rebuilds its rollup in the same transaction. The write is fenced by the job's lease, and it
runs before the job fetches anything, so the job's own transform already uses the new zone.
"""

from __future__ import annotations

from storeline.platforms.shopify.client import ShopifyClient
from storeline.platforms.shopify.documents import document
from storeline.platforms.shopify.sql import queries
from storeline.worker.jobs.contract import JobContext
from storeline.worker.logs import log


async def sync_shop_profile(client: ShopifyClient, ctx: JobContext) -> None:
    """Read `shop { ianaTimezone currencyCode }` and update the shops row when it differs."""
    result = await client.graphql(document("shop_profile"))
    shop = result.data.get("shop") or {}
    timezone, currency = shop.get("ianaTimezone"), shop.get("currencyCode")
    if not isinstance(timezone, str) or not isinstance(currency, str):
        return  # nothing reliable to compare with: keep what we have
    if timezone == ctx.shop.timezone and currency == ctx.shop.currency:
        return
    async with ctx.fenced() as conn:
        previous = await conn.fetchval(
            queries()["shopify_sync_shop_profile"], ctx.shop.id, timezone, currency
        )
    if previous is not None and previous != timezone:
        log.info("shop_timezone_restamped", shop_id=ctx.shop.id, old=previous, new=timezone)
