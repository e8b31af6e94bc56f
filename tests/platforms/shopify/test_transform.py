"""The transform on hand-made lines: idempotent re-runs, edits replacing children, refunds and
cancellations moving the right days, children before parents, deletions, prune_unseen, RLS."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

import asyncpg
import orjson
import pytest

from storeline.core.rls import as_user
from storeline.platforms.shopify.load import copy_lines
from storeline.platforms.shopify.rollup import refresh_rollups
from storeline.platforms.shopify.transform import (
    ORDER_STEPS,
    REFUND_STEPS,
    apply_deletions,
    prune_unseen,
    touched_dates,
    transform,
)
from tests.platforms.shopify.warehouse_support import load_job

SHOP = "kiri.myshopify.com"  # Pacific/Kiritimati: UTC+14, so UTC dates shift by a day
OTHER = "berlin.myshopify.com"
TZ_OFFSET = timedelta(hours=14)


def gid(kind: str, n: int) -> str:
    return f"gid://shopify/{kind}/{n}"


def bag(amount: str) -> dict[str, Any]:
    return {"shopMoney": {"amount": amount, "currencyCode": "AUD"},
            "presentmentMoney": {"amount": amount, "currencyCode": "NZD"}}  # fmt: skip


def at(day: date, hour: int = 12) -> str:
    """A UTC timestamp that falls on `day` in Kiritimati."""
    moment = datetime(day.year, day.month, day.day, hour, tzinfo=UTC) - TZ_OFFSET
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def order(n: int, day: date, *, updated: str | None = None, refunds: list[Any] | None = None,
          test: bool = False, cancelled: str | None = None) -> dict[str, Any]:  # fmt: skip
    return {
        "__typename": "Order", "id": gid("Order", n), "name": f"#{n}",
        "createdAt": at(day), "processedAt": at(day), "updatedAt": updated or at(day),
        "cancelledAt": cancelled, "test": test, "tags": ["a", "b\\c"],
        "totalPriceSet": bag("0.0"), "customer": {"id": gid("Customer", 7)},
        "transactions": [{"id": gid("OrderTransaction", n * 10), "kind": "SALE",
                          "status": "SUCCESS", "amountSet": bag("10.0")}],
        "refunds": refunds or [],
    }  # fmt: skip


def line(n: int, order_n: int, unit: str, qty: int, discount: str = "0.0",
         tax: str = "0.0") -> dict[str, Any]:  # fmt: skip
    return {
        "__typename": "LineItem", "id": gid("LineItem", n), "quantity": qty,
        "originalUnitPriceSet": bag(unit),
        "discountAllocations": [{"allocatedAmountSet": bag(discount)}],
        "taxLines": [{"title": "GST", "priceSet": bag(tax)}],
        "__parentId": gid("Order", order_n),
    }  # fmt: skip


def ship(
    n: int, order_n: int, price: str, discount: str = "0.0", tax: str = "0.0"
) -> dict[str, Any]:
    return {
        "__typename": "ShippingLine", "id": gid("ShippingLine", n),
        "originalPriceSet": bag(price),
        "discountAllocations": [{"allocatedAmountSet": bag(discount)}],
        "taxLines": [{"priceSet": bag(tax)}], "__parentId": gid("Order", order_n),
    }  # fmt: skip


def refund_lines(n: int, order_n: int, day: date, *, line_n: int, subtotal: str, tax: str,
                 shipping: str | None = None) -> list[dict[str, Any]]:  # fmt: skip
    """A refund as the connector loads it: Refund header line + detail lines."""
    out = [
        {"__typename": "Refund", "id": gid("Refund", n), "createdAt": at(day),
         "totalRefundedSet": bag(subtotal), "__parentId": gid("Order", order_n)},
        {"__typename": "RefundLineItem", "id": gid("RefundLineItem", n), "quantity": 1,
         "lineItem": {"id": gid("LineItem", line_n)}, "restockType": "RETURN",
         "subtotalSet": bag(subtotal), "totalTaxSet": bag(tax), "__parentId": gid("Refund", n)},
    ]  # fmt: skip
    if shipping is not None:
        out.append({"__typename": "RefundShippingLine", "id": gid("RefundShippingLine", n),
                    "subtotalAmountSet": bag(shipping), "taxAmountSet": bag("0.0"),
                    "__parentId": gid("Refund", n)})  # fmt: skip
    return out


def header(n: int, day: date) -> dict[str, Any]:
    return {"id": gid("Refund", n), "createdAt": at(day), "totalRefundedSet": bag("1.0")}


D1, D2, D3 = date(2026, 10, 1), date(2026, 10, 5), date(2026, 10, 9)


def job1() -> list[dict[str, Any]]:
    return [
        order(1, D1),
        line(11, 1, "20.00", 2, discount="4.00", tax="3.60"),
        line(12, 1, "5.50", 1, tax="0.55"),
        ship(13, 1, "10.00", discount="2.00", tax="0.80"),
        order(2, D1),
        line(21, 2, "100.00", 1, discount="10.00", tax="9.00"),
        order(3, D2, test=True),
        line(31, 3, "999.00", 1),
    ]


def dump(records: list[dict[str, Any]]) -> list[bytes]:
    return [orjson.dumps(r) for r in records]


@pytest.fixture
async def db(conn: asyncpg.Connection) -> asyncpg.Connection:
    await conn.execute(
        """
        INSERT INTO app_dashboard.agencies (id, name) VALUES
            ('aaaaaaaa-0000-0000-0000-000000000000', 'A');
        INSERT INTO app_dashboard.shops (id, name, currency, timezone, agency_id) VALUES
            ('kiri.myshopify.com', 'Kiri', 'AUD', 'Pacific/Kiritimati',
             'aaaaaaaa-0000-0000-0000-000000000000'),
            ('berlin.myshopify.com', 'Berlin', 'EUR', 'Europe/Berlin',
             'aaaaaaaa-0000-0000-0000-000000000000');
        """
    )
    return conn


async def figures(conn: asyncpg.Connection, shop: str = SHOP) -> dict[date, tuple[Any, ...]]:
    rows = await conn.fetch(
        "SELECT day, orders, gross_sales, discounts, returns, net_sales, shipping, taxes,"
        " total_sales, aov FROM reporting.daily_revenue WHERE shop_id = $1",
        shop,
    )
    return {r["day"]: tuple(r.values())[1:] for r in rows}


async def counts(conn: asyncpg.Connection) -> dict[str, int]:
    out = {}
    for table in ("orders", "order_line_items", "order_shipping_lines", "transactions",
                  "refunds", "refund_line_items", "refund_shipping_lines"):  # fmt: skip
        out[table] = await conn.fetchval(f"SELECT count(*) FROM core_warehouse.{table}")
    return out


D = Decimal


async def test_first_load_figures_days_in_shop_timezone(db: asyncpg.Connection) -> None:
    result = await load_job(db, job_id=1, shop_id=SHOP, lines=dump(job1()))
    assert result.dates == {D1, D2}
    assert result.orders == 3
    assert result.orphans == 0
    # Order 1: gross 45.50, discounts 4.00, shipping 8.00, taxes 4.95; order 2: 100/10/9.
    assert await figures(db) == {
        D1: (2, D("145.50"), D("14.00"), D("0"), D("131.50"), D("8.00"), D("13.95"),
             D("153.45"), D("65.75")),
    }  # fmt: skip
    o = await db.fetchrow("SELECT * FROM core_warehouse.orders WHERE id = 1")
    assert o["processed_date"] == D1
    assert o["customer_id"] == 7
    assert o["tags"] == ["a", "b\\c"]
    assert o["raw"]["tags"] == ["a", "b\\c"]  # the loader's COPY escaping round-trips
    li = await db.fetchrow("SELECT * FROM core_warehouse.order_line_items WHERE id = 11")
    assert (li["original_total"], li["total_discount"], li["discounted_total"]) == (
        D("40.00"), D("4.00"), D("36.00"))  # fmt: skip
    assert li["raw"]["originalUnitPriceSet"]["presentmentMoney"]["currencyCode"] == "NZD"


async def test_rerunning_a_job_is_idempotent(db: asyncpg.Connection) -> None:
    await load_job(db, job_id=1, shop_id=SHOP, lines=dump(job1()))
    before, rows = await figures(db), await counts(db)
    again = await transform(db, job_id=1, shop_id=SHOP)
    await refresh_rollups(db, shop_id=SHOP, dates=again.dates)
    assert await figures(db) == before
    assert await counts(db) == rows
    # Loading the same lines again into the same job (a retried download) changes nothing.
    await load_job(db, job_id=1, shop_id=SHOP, lines=dump(job1()))
    assert await figures(db) == before
    assert await counts(db) == rows


async def test_children_before_parents(db: asyncpg.Connection) -> None:
    await load_job(db, job_id=1, shop_id=SHOP, lines=dump(job1()[::-1]))
    reversed_figures = await figures(db)
    assert reversed_figures[D1][0] == 2
    assert reversed_figures[D1][1] == D("145.50")
    assert (await counts(db))["order_line_items"] == 4


async def test_edit_refund_and_cancellation_replace_children_and_move_days(
    db: asyncpg.Connection,
) -> None:
    await load_job(db, job_id=1, shop_id=SHOP, lines=dump(job1()))
    later = at(D3, 20)
    job2 = [
        # Order 1 edited: line 12 removed; refunded on D2 (one unit of line 11 + some shipping).
        order(1, D1, updated=later, refunds=[header(100, D2)]),
        line(11, 1, "20.00", 2, discount="4.00", tax="3.60"),
        ship(13, 1, "10.00", discount="2.00", tax="0.80"),
        *refund_lines(100, 1, D2, line_n=11, subtotal="18.00", tax="1.80", shipping="3.00"),
        # Order 2 cancelled on D3: its cancellation refund returns everything that day.
        order(2, D1, updated=later, cancelled=at(D3), refunds=[header(200, D3)]),
        line(21, 2, "100.00", 1, discount="10.00", tax="9.00"),
        *refund_lines(200, 2, D3, line_n=21, subtotal="90.00", tax="9.00"),
    ]
    result = await load_job(db, job_id=2, shop_id=SHOP, lines=dump(job2))
    assert result.dates == {D1, D2, D3}
    assert await db.fetchval("SELECT count(*) FROM core_warehouse.order_line_items "
                             "WHERE order_id = 1") == 1  # fmt: skip
    assert await figures(db) == {
        D1: (2, D("140.00"), D("14.00"), D("0"), D("126.00"), D("8.00"), D("13.40"),
             D("147.40"), D("63.00")),
        D2: (0, D("0"), D("0"), D("18.00"), D("-18.00"), D("-3.00"), D("-1.80"), D("-22.80"),
             None),
        D3: (0, D("0"), D("0"), D("90.00"), D("-90.00"), D("0"), D("-9.00"), D("-99.00"),
             None),
    }  # fmt: skip
    # A later header-only job (the bulk file without refund details) keeps the details...
    job3 = [order(1, D1, updated=later, refunds=[header(100, D2)]),
            line(11, 1, "20.00", 2, discount="4.00", tax="3.60"),
            ship(13, 1, "10.00", discount="2.00", tax="0.80")]  # fmt: skip
    await load_job(db, job_id=3, shop_id=SHOP, lines=dump(job3))
    assert (await figures(db))[D2][3] == D("18.00")
    # ...and a job whose order no longer lists the refund drops it and moves its day back.
    job4 = [order(1, D1, updated=later), *job3[1:]]
    result = await load_job(db, job_id=4, shop_id=SHOP, lines=dump(job4))
    assert D2 in result.dates
    assert D2 not in await figures(db)
    assert await db.fetchval("SELECT count(*) FROM core_warehouse.refund_line_items "
                             "WHERE refund_id = 100") == 0  # fmt: skip


async def test_a_backfill_in_two_parts_equals_one_pass_and_a_retry_needs_the_first_days(
    db: asyncpg.Connection,
) -> None:
    """The connector's backfill: the order side commits while refund details are fetched, the
    refund side (then the rollup) commits last. A retry after the first part committed no
    longer sees the day its orders left, so the connector carries the first part's `before`
    days (connector.py `_order_pass`); the result equals one pass."""
    await load_job(db, job_id=1, shop_id=SHOP, lines=dump(job1()))  # orders 1, 2 on D1
    later = at(D3, 20)
    job2 = [  # a rebuild: both orders moved to D2 (processedAt), refunded on D2 and D3
        order(1, D2, updated=later, refunds=[header(100, D2)]),
        line(11, 1, "20.00", 2, discount="4.00", tax="3.60"),
        order(2, D2, updated=later, refunds=[header(200, D3)]),
        line(21, 2, "100.00", 1, discount="10.00", tax="9.00"),
        *refund_lines(100, 1, D2, line_n=11, subtotal="18.00", tax="1.80"),
        *refund_lines(200, 2, D3, line_n=21, subtotal="90.00", tax="9.00"),
    ]
    async with db.transaction():
        await copy_lines(db, job_id=2, shop_id=SHOP, lines=_aiter(dump(job2)))
    first = await transform(db, job_id=2, shop_id=SHOP, steps=ORDER_STEPS)  # commits
    assert first.before == {D1}
    assert await db.fetchval("SELECT count(*) FROM core_warehouse.refunds") == 0
    # A crash here. The retry runs both parts; neither sees D1 any more.
    again = await transform(db, job_id=2, shop_id=SHOP, steps=ORDER_STEPS)
    last = await transform(db, job_id=2, shop_id=SHOP, steps=REFUND_STEPS, customers=False)
    assert again.dates | last.dates == {D2, D3}
    assert await touched_dates(db, job_id=2, shop_id=SHOP) == {D2, D3}
    await refresh_rollups(db, shop_id=SHOP, dates=again.dates | last.dates)
    assert (await figures(db))[D1][0] == 2  # stale: D1 still shows the orders that left
    await refresh_rollups(db, shop_id=SHOP, dates=first.before | last.dates)
    two_parts, rows = await figures(db), await counts(db)
    assert set(two_parts) == {D2, D3}
    assert two_parts[D2][:5] == (2, D("140.00"), D("14.00"), D("18.00"), D("108.00"))
    # One pass over the same job changes nothing.
    whole = await transform(db, job_id=2, shop_id=SHOP)
    await refresh_rollups(db, shop_id=SHOP, dates=whole.dates | {D1})
    assert await figures(db) == two_parts
    assert await counts(db) == rows


async def test_an_older_version_never_overwrites_a_newer_one(db: asyncpg.Connection) -> None:
    newer = [order(2, D2, updated=at(D3)), line(21, 2, "50.00", 1)]
    await load_job(db, job_id=2, shop_id=SHOP, lines=dump(newer))
    await load_job(db, job_id=1, shop_id=SHOP, lines=dump(job1()))  # older copy of order 2
    o = await db.fetchrow("SELECT processed_date, sync_job_id FROM core_warehouse.orders "
                          "WHERE id = 2")  # fmt: skip
    assert (o["processed_date"], o["sync_job_id"]) == (D2, 2)
    assert await db.fetchval("SELECT original_total FROM core_warehouse.order_line_items "
                             "WHERE id = 21") == D("50.00")  # fmt: skip


async def test_deletions_and_prune_unseen(db: asyncpg.Connection) -> None:
    extra = [*job1(), order(4, D3, refunds=[header(400, D3)]), line(41, 4, "7.00", 1),
             *refund_lines(400, 4, D3, line_n=41, subtotal="7.00", tax="0.0")]  # fmt: skip
    await load_job(db, job_id=1, shop_id=SHOP, lines=dump(extra))
    async with db.transaction():
        days = await apply_deletions(db, shop_id=SHOP, order_ids=[gid("Order", 2)],
                                     deleted_at=datetime.now(UTC))  # fmt: skip
        await refresh_rollups(db, shop_id=SHOP, dates=days)
    assert days == {D1}
    assert (await figures(db))[D1][:2] == (1, D("45.50"))
    assert await db.fetchval("SELECT raw IS NOT NULL FROM core_warehouse.orders WHERE id = 2")
    # A rebuild that no longer carries order 4: it and its children go, its days move.
    async with db.transaction():
        await copy_lines(db, job_id=5, shop_id=SHOP, lines=_aiter(dump(job1())))
        result = await transform(db, job_id=5, shop_id=SHOP)
        pruned = await prune_unseen(db, shop_id=SHOP, job_id=5)
        await refresh_rollups(db, shop_id=SHOP, dates=result.dates | pruned)
    assert pruned == {D3}
    assert D3 not in await figures(db)
    left = await counts(db)
    assert left["orders"] == 3
    assert left["refunds"] == 0
    assert left["refund_line_items"] == 0


async def _aiter(lines: list[bytes]) -> AsyncIterator[bytes]:
    for item in lines:
        yield item


async def test_members_read_only_their_shops_warehouse_rows(db: asyncpg.Connection) -> None:
    await load_job(db, job_id=1, shop_id=SHOP, lines=dump(job1()))
    await load_job(db, job_id=2, shop_id=OTHER, lines=dump(job1()))
    user = "00000000-0000-0000-0000-00000000000a"
    await db.execute(
        "INSERT INTO app_dashboard.users (id, email, role, agency_id) VALUES"
        " ($1, 'a@a.test', 'AGENCY_OWNER', 'aaaaaaaa-0000-0000-0000-000000000000');"
        "INSERT INTO app_dashboard.user_shops (user_id, shop_id) VALUES ($1, 'kiri.myshopify.com')"
        .replace("$1", f"'{user}'")
    )  # fmt: skip
    claims = {"sub": user, "role": "authenticated"}
    async with as_user(db, claims) as c:
        for table in ("core_warehouse.orders", "core_warehouse.order_line_items",
                      "core_warehouse.refunds", "reporting.daily_revenue",
                      "reporting.shop_daily_kpis"):  # fmt: skip
            shops = {r[0] for r in await c.fetch(f"SELECT shop_id FROM {table}")}
            assert shops <= {SHOP}, table
            assert shops or table == "core_warehouse.refunds", table
        with pytest.raises(asyncpg.InsufficientPrivilegeError):
            await c.fetch("SELECT count(*) FROM staging_ingest.shopify_bulk_rows")


async def test_prune_staging_keeps_recent_successful_jobs(db: asyncpg.Connection) -> None:
    for job in (1, 2):
        await load_job(db, job_id=job, shop_id=SHOP, lines=dump(job1()))
    # No sync_jobs rows exist for these ids: they count as finished and unknown.
    deleted = await db.fetchval("SELECT storeline_private.prune_staging()")
    assert deleted == 2 * len(job1())
    assert await db.fetchval("SELECT count(*) FROM staging_ingest.shopify_bulk_rows") == 0
    assert (await counts(db))["orders"] == 3  # the warehouse keeps every object's raw JSON
