"""Helpers for the warehouse tests: fetch a shop's real bulk JSONL (and refund details) from the
sandbox over HTTP, register shops, and run copy_lines → transform → refresh_rollups."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterable
from decimal import Decimal
from typing import Any

import asyncpg
import httpx
import orjson

from sandbox.world import ShopProfile, World
from storeline.platforms.shopify.documents import QUERIES
from storeline.platforms.shopify.load import copy_lines
from storeline.platforms.shopify.rollup import refresh_rollups
from storeline.platforms.shopify.transform import TransformResult, transform

API = "admin/api/2026-01/graphql.json"
AGENCY = "aaaaaaaa-0000-0000-0000-000000000000"


def document(name: str, **subs: str) -> str:
    text = (QUERIES / name).read_text()
    for key, value in subs.items():
        text = text.replace(key, value)
    return text


async def graphql(
    client: httpx.AsyncClient, url: str, shop: ShopProfile, document: str, **variables: Any
) -> dict[str, Any]:
    for _ in range(20):
        resp = await client.post(
            url,
            json={"query": document, "variables": variables},
            headers={"X-Shopify-Access-Token": shop.shopify_token},
        )
        resp.raise_for_status()
        body: dict[str, Any] = resp.json()
        if any(e.get("extensions", {}).get("code") == "THROTTLED" for e in body.get("errors", [])):
            await asyncio.sleep(0.5)
            continue
        assert "errors" not in body, body
        return body
    raise AssertionError("still throttled")


async def bulk_lines(
    client: httpx.AsyncClient, shopify_url: str, shop: ShopProfile, *, query_filter: str = ""
) -> list[bytes]:
    """Run bulk_orders.graphql as a bulk operation and download its JSONL, plus the refund
    details (refund_details.graphql over nodes(ids:)) of every order that has refunds, as the
    connector does."""
    url = f"{shopify_url}/shops/{shop.handle}/{API}"
    bulk = document("bulk_orders.graphql", __FILTER__=query_filter)
    started = await graphql(client, url, shop, document("bulk_run_query.graphql"), query=bulk)
    payload = started["data"]["bulkOperationRunQuery"]
    assert not payload["userErrors"], payload
    op_id = payload["bulkOperation"]["id"]
    while True:
        polled = await graphql(client, url, shop, document("bulk_operation.graphql"), id=op_id)
        op = polled["data"]["bulkOperation"]
        if op["status"] == "COMPLETED":
            break
        assert op["status"] in ("CREATED", "RUNNING"), op
        await asyncio.sleep(0.2)
    lines: list[bytes] = []
    if op["url"]:
        resp = await client.get(op["url"])
        resp.raise_for_status()
        lines = [ln for ln in resp.content.splitlines() if ln.strip()]
    refunded = []
    for raw in lines:
        obj = orjson.loads(raw)
        if obj.get("__typename") == "Order" and obj.get("refunds"):
            refunded.append(obj["id"])
    details = document("refund_details.graphql")
    for i in range(0, len(refunded), 10):
        body = await graphql(client, url, shop, details, ids=refunded[i : i + 10])
        lines.extend(orjson.dumps(node) for node in body["data"]["nodes"] if node)
    return lines


async def register_shops(conn: asyncpg.Connection, shops: Iterable[ShopProfile]) -> None:
    await conn.execute(
        "INSERT INTO app_dashboard.agencies (id, name) VALUES ($1, 'Agency')"
        " ON CONFLICT DO NOTHING",
        AGENCY,
    )
    for shop in shops:
        await conn.execute(
            "INSERT INTO app_dashboard.shops (id, name, currency, timezone, agency_id)"
            " VALUES ($1, $2, $3, $4, $5)",
            shop.shop_id,
            shop.name,
            shop.currency,
            shop.timezone,
            AGENCY,
        )


async def _iterate(lines: Iterable[bytes]) -> AsyncIterator[bytes]:
    for line in lines:
        yield line


async def load_job(
    conn: asyncpg.Connection, *, job_id: int, shop_id: str, lines: Iterable[bytes]
) -> TransformResult:
    """copy_lines → transform → refresh_rollups in one transaction, as the connector does."""
    async with conn.transaction():
        await copy_lines(conn, job_id=job_id, shop_id=shop_id, lines=_iterate(lines))
        result = await transform(conn, job_id=job_id, shop_id=shop_id)
        await refresh_rollups(conn, shop_id=shop_id, dates=result.dates)
    return result


MONEY = ("gross_sales", "discounts", "returns", "net_sales", "shipping", "taxes", "duties",
         "additional_fees", "total_sales")  # fmt: skip


async def revenue(conn: asyncpg.Connection, shop_id: str) -> dict[str, dict[str, Any]]:
    """reporting.daily_revenue as {iso day: row}."""
    rows = await conn.fetch(
        "SELECT * FROM reporting.daily_revenue WHERE shop_id = $1 ORDER BY day", shop_id
    )
    return {r["day"].isoformat(): dict(r) for r in rows}


def mismatches(
    oracle_rows: list[dict[str, Any]], ours: dict[str, dict[str, Any]]
) -> list[tuple[str, str, Any, Any]]:
    """(day, field, oracle, ours) for every difference; a day we lack must be all zero."""
    out = []
    for o in oracle_rows:
        mine = ours.get(o["date"])
        if mine is None:
            if o["orders"] or any(Decimal(o[k]) for k in MONEY):
                out.append((o["date"], "row", o, None))
            continue
        if mine["orders"] != o["orders"]:
            out.append((o["date"], "orders", o["orders"], mine["orders"]))
        for k in MONEY:
            if Decimal(o[k]) != mine[k]:
                out.append((o["date"], k, o[k], mine[k]))
        want_aov = Decimal(o["aov"]) if o["aov"] is not None else None
        if want_aov != mine["aov"]:
            out.append((o["date"], "aov", o["aov"], mine["aov"]))
        if mine["currency"] != o["currency"]:
            out.append((o["date"], "currency", o["currency"], mine["currency"]))
    return out


def history(world: World, shop: ShopProfile) -> tuple[Any, Any]:
    """The oracle's day range covering the shop's whole history up to now (plus slack)."""
    from datetime import timedelta

    first = world.history_start(shop) - timedelta(days=40)
    last = world.now().date() + timedelta(days=2)
    return first, last
