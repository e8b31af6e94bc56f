"""The Shopify oracle: Shopify's sales-report figures per shop-local day, checked independently."""

from __future__ import annotations

import collections
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

import pytest

from sandbox.shopify import generate, oracle
from sandbox.shopify.days import local_day
from sandbox.shopify.model import Order
from sandbox.world import ShopProfile, World

KIRI = "kiri-surf.myshopify.com"
MONEY = ("gross_sales", "discounts", "returns", "net_sales", "shipping", "taxes", "total_sales")


def _independent(orders: list[Order], shop: ShopProfile, days: list[date]) -> dict[date, Any]:
    """The same definitions summed another way: whole-history iteration and derived totals."""
    out: dict[date, Any] = {d: collections.Counter() for d in days}
    for o in orders:
        if o.test:
            continue
        day = local_day(o.processed_at, shop.timezone)
        if day in out:
            row = out[day]
            row["orders"] += 1
            row["gross_sales"] += o.total_line_items_price
            row["discounts"] += sum((li.total_discount for li in o.line_items), Decimal(0))
            row["shipping"] += o.total_shipping
            row["taxes"] += o.total_tax
            row["duties"] += o.total_duties
            row["additional_fees"] += o.total_additional_fees
        for r in o.refunds:
            refund_day = local_day(r.created_at, shop.timezone)
            if refund_day in out:
                out[refund_day]["returns"] += r.line_items_subtotal
                out[refund_day]["shipping"] -= r.shipping_subtotal
                out[refund_day]["taxes"] -= r.total_tax
                out[refund_day]["duties"] -= r.duties_total
    return out


def _days(first: date, last: date) -> list[date]:
    return [first + timedelta(days=i) for i in range((last - first).days + 1)]


@pytest.mark.parametrize(
    "shop_id", ["aurora-goods.myshopify.com", "berlin-botanics.myshopify.com", KIRI]
)
def test_every_day_matches_an_independent_sum(shop_id: str) -> None:
    world = World.build()
    shop = world.shops[shop_id]
    days = _days(world.history_start(shop), local_day(world.now(), shop.timezone))
    rows = oracle.daily(world, shop, days[0], days[-1])
    expected = _independent(list(generate.iter_orders(world, shop)), shop, days)
    assert [r["date"] for r in rows] == [d.isoformat() for d in days]
    assert sum(r["orders"] for r in rows) > 100
    assert any(Decimal(r["returns"]) > 0 for r in rows)
    assert any(Decimal(r["duties"]) > 0 for r in rows)
    assert any(Decimal(r["additional_fees"]) > 0 for r in rows)
    for row, day in zip(rows, days, strict=True):
        e = expected[day]
        assert row["orders"] == e["orders"], day
        for field in ("gross_sales", "discounts", "returns", "shipping", "taxes", "duties",
                      "additional_fees"):  # fmt: skip
            assert Decimal(row[field]) == e[field], (day, field)
        net = e["gross_sales"] - e["discounts"] - e["returns"]
        assert Decimal(row["net_sales"]) == net
        extras = e["shipping"] + e["duties"] + e["additional_fees"] + e["taxes"]
        assert Decimal(row["total_sales"]) == net + extras
        if e["orders"]:
            aov = (e["gross_sales"] - e["discounts"]) / e["orders"]
            assert Decimal(row["aov"]) == aov.quantize(Decimal("0.01"), ROUND_HALF_UP)
        else:
            assert row["aov"] is None
        assert row["currency"] == shop.currency


def test_a_hand_checked_kiritimati_day() -> None:
    """2026-07-05 in Kiritimati (UTC+14) holds #11001, placed 2026-07-04 23:28 UTC, and #11002.

    #11001: 6.95 + 34.90 gross, GST 0.70 + 3.49, shipping 9.00 with 0.90 GST.
    #11002: 105.00 + 206.00 + 111.50 + 41.90 gross, GST 10.50 + 20.60 + 11.15 + 4.19, free shipping.
    """
    world = World.build()
    shop = world.shops[KIRI]
    row = oracle.daily(world, shop, date(2026, 7, 5), date(2026, 7, 5))[0]
    assert row == {
        "date": "2026-07-05",
        "currency": "AUD",
        "orders": 2,
        "duties": "0.00",
        "additional_fees": "0.00",
        "return_fees": "0.00",
        "gross_sales": "506.25",
        "discounts": "0.00",
        "returns": "0.00",
        "net_sales": "506.25",
        "shipping": "9.00",
        "taxes": "51.53",
        "total_sales": "566.78",
        "aov": "253.13",  # 506.25 / 2 = 253.125, half-up
    }
    orders = list(generate.iter_orders(world, shop))
    first = next(o for o in orders if o.name == "#11001")
    assert first.processed_at.date() == date(2026, 7, 4)
    # On its UTC day it does not count: that row holds only orders placed on local 2026-07-04.
    on_utc_day = [o for o in orders if local_day(o.processed_at, shop.timezone) == date(2026, 7, 4)]
    assert first not in on_utc_day
    utc_row = oracle.daily(world, shop, date(2026, 7, 4), date(2026, 7, 4))[0]
    assert utc_row["orders"] == len([o for o in on_utc_day if not o.test])


def test_kiritimati_buckets_by_local_day_not_utc() -> None:
    world = World.build(size="small")
    shop = world.shops[KIRI]
    first, last = date(2026, 9, 1), date(2026, 10, 15)
    rows = {r["date"]: r for r in oracle.daily(world, shop, first, last)}
    orders = [o for o in generate.iter_orders(world, shop) if not o.test]
    by_local: collections.Counter[str] = collections.Counter()
    by_utc: collections.Counter[str] = collections.Counter()
    returns_local: dict[str, Decimal] = collections.defaultdict(Decimal)
    returns_utc: dict[str, Decimal] = collections.defaultdict(Decimal)
    for o in orders:
        by_local[local_day(o.processed_at, shop.timezone).isoformat()] += 1
        by_utc[o.processed_at.date().isoformat()] += 1
        for r in o.refunds:
            returns_local[local_day(r.created_at, shop.timezone).isoformat()] += (
                r.line_items_subtotal
            )
            returns_utc[r.created_at.date().isoformat()] += r.line_items_subtotal
    days = [d.isoformat() for d in _days(first, last)]
    assert [rows[d]["orders"] for d in days] == [by_local[d] for d in days]
    assert [rows[d]["orders"] for d in days] != [by_utc[d] for d in days]
    assert [Decimal(rows[d]["returns"]) for d in days] == [returns_local[d] for d in days]
    assert [Decimal(rows[d]["returns"]) for d in days] != [returns_utc[d] for d in days]


def test_test_and_deleted_orders_are_excluded_but_cancelled_count() -> None:
    world = World.build(size="small")
    for shop in world.shops.values():
        every = list(
            generate.iter_orders_created(
                world,
                shop,
                world.history_start(shop),
                local_day(world.now(), shop.timezone),
                include_deleted=True,
            )
        )
        excluded = [o for o in every if o.test or o.deleted_at is not None]
        cancelled = [o for o in every if o.cancelled_at and not o.test and not o.deleted_at]
        assert excluded
        assert cancelled
        for o in (excluded[0], cancelled[0]):
            day = local_day(o.processed_at, shop.timezone)
            row = oracle.daily(world, shop, day, day)[0]
            counted = [
                x
                for x in every
                if local_day(x.processed_at, shop.timezone) == day
                and not x.test
                and x.deleted_at is None
            ]
            assert row["orders"] == len(counted)
            assert (o.id in {x.id for x in counted}) == (o is cancelled[0])
            gross = sum((x.total_line_items_price for x in counted), Decimal(0))
            assert Decimal(row["gross_sales"]) == gross


def test_a_refund_counts_on_its_own_day_once_the_clock_reaches_it() -> None:
    world = World.build()
    shop = world.shops["aurora-goods.myshopify.com"]
    t0 = world.now()
    world.advance(timedelta(days=15))
    refunded = [
        (o, r)
        for o in generate.iter_orders(world, shop, updated_at_min=t0)
        for r in o.refunds
        if r.created_at > t0 and not o.test and r.refund_line_items and o.cancelled_at is None
    ]
    assert refunded
    order, refund = refunded[0]
    refund_day = local_day(refund.created_at, shop.timezone)
    order_day = local_day(order.processed_at, shop.timezone)
    assert order_day < refund_day
    after = oracle.daily(world, shop, order_day, refund_day)
    before_world = World.build()
    before = oracle.daily(before_world, shop, order_day, refund_day)
    assert after[0]["gross_sales"] == before[0]["gross_sales"]  # the sale day never moves
    newly = sum(
        (
            r.line_items_subtotal
            for o in generate.iter_orders(world, shop, updated_at_min=t0)
            if not o.test
            for r in o.refunds
            if r.created_at > t0 and local_day(r.created_at, shop.timezone) == refund_day
        ),
        Decimal(0),
    )
    assert newly >= refund.line_items_subtotal > 0
    assert Decimal(after[-1]["returns"]) - Decimal(before[-1]["returns"]) == newly


def test_totals_add_the_days_up() -> None:
    world = World.build()
    shop = world.shops[KIRI]
    rows = oracle.daily(world, shop, date(2026, 8, 1), date(2026, 8, 31))
    total = oracle.totals(rows)
    assert total["orders"] == sum(r["orders"] for r in rows)
    for field in MONEY:
        assert Decimal(total[field]) == sum((Decimal(r[field]) for r in rows), Decimal(0))
    gross, disc = Decimal(total["gross_sales"]), Decimal(total["discounts"])
    assert Decimal(total["aov"]) == ((gross - disc) / total["orders"]).quantize(
        Decimal("0.01"), ROUND_HALF_UP
    )
