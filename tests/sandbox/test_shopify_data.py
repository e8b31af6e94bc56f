"""The Shopify sandbox's data: determinism, the clock, money invariants and flat memory."""

from __future__ import annotations

import collections
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

import psutil
import pytest

from sandbox.shopify import generate
from sandbox.shopify.days import local_day
from sandbox.shopify.model import Order, money
from sandbox.shopify.mutations import MAX_MUTATION_DELAY
from sandbox.world import ShopProfile, World

AURORA = "aurora-goods.myshopify.com"
KIRI = "kiri-surf.myshopify.com"


def _shop(world: World, shop_id: str) -> ShopProfile:
    return world.shops[shop_id]


def _all_orders(world: World) -> list[Order]:
    return [o for shop in world.shops.values() for o in generate.iter_orders(world, shop)]


@pytest.fixture(scope="module")
def small_orders() -> list[Order]:
    return _all_orders(World.build(size="small"))


def test_same_seed_and_anchor_give_identical_data() -> None:
    a, b = World.build(seed=11), World.build(seed=11)
    for shop_id in a.shops:
        sa, sb = _shop(a, shop_id), _shop(b, shop_id)
        assert repr(list(generate.iter_orders(a, sa, include_deleted=True))) == repr(
            list(generate.iter_orders(b, sb, include_deleted=True))
        )
        assert repr(list(generate.iter_customers(a, sa))) == repr(
            list(generate.iter_customers(b, sb))
        )
        assert list(generate.iter_deletions(a, sa)) == list(generate.iter_deletions(b, sb))


def test_another_seed_or_anchor_gives_other_data() -> None:
    base = World.build(seed=11)
    shop = _shop(base, KIRI)
    orders = list(generate.iter_orders(base, shop))
    other_seed = list(generate.iter_orders(World.build(seed=12), shop))
    assert [(o.created_at, o.total_price) for o in orders] != [
        (o.created_at, o.total_price) for o in other_seed
    ]
    moved = World.build(seed=11, anchor=base.anchor + timedelta(days=3))
    assert [o.id for o in generate.iter_orders(moved, shop)] != [o.id for o in orders]


def test_every_kind_of_order_is_generated(small_orders: list[Order]) -> None:
    kinds: collections.Counter[str] = collections.Counter()
    for o in small_orders:
        refunds = [r for r in o.refunds if o.cancelled_at is None]
        kinds["multi_line"] += len(o.line_items) > 1
        kinds["code"] += bool(o.discount_codes)
        kinds["automatic"] += any(a.type == "AUTOMATIC" for a in o.discount_applications)
        kinds["free_shipping_code"] += any(s.discount_allocations for s in o.shipping_lines)
        kinds["partial_refund"] += o.display_financial_status == "PARTIALLY_REFUNDED"
        kinds["full_refund"] += o.display_financial_status == "REFUNDED" and not o.cancelled_at
        kinds["shipping_refund"] += any(r.refund_shipping_lines for r in refunds)
        kinds["no_restock"] += any(
            li.restock_type == "NO_RESTOCK" for r in refunds for li in r.refund_line_items
        )
        kinds["two_refunds"] += len(refunds) > 1
        kinds["cancel_refund"] += o.cancelled_at is not None and o.total_refunded > 0
        kinds["cancel_void"] += any(t.kind == "VOID" for t in o.transactions)
        kinds["pending"] += o.display_financial_status == "PENDING"
        kinds["authorized"] += o.display_financial_status == "AUTHORIZED"
        kinds["capture"] += any(t.kind == "CAPTURE" for t in o.transactions)
        kinds["failed_attempt"] += any(t.status == "FAILURE" for t in o.transactions)
        kinds["test"] += o.test
        kinds["imported"] += o.processed_at < o.created_at
        kinds["edited"] += o.note is not None
        kinds["foreign_presentment"] += o.presentment_currency_code != o.currency_code
        kinds["guest"] += o.customer_id is None
        kinds["returning"] += bool(o.customer_journey and o.customer_journey.customer_order_index)
        kinds["closed"] += o.closed_at is not None
        kinds["unfulfilled"] += o.display_fulfillment_status == "UNFULFILLED"
    missing = [k for k, n in kinds.items() if n == 0]
    assert not missing, kinds
    assert 0.2 < kinds["code"] / len(small_orders) < 0.4


def _check_money(o: Order) -> None:
    apps = {a.index: a for a in o.discount_applications}
    for li in o.line_items:
        base = money(li.original_unit_price * li.quantity)
        for alloc in li.discount_allocations:
            assert alloc.amount > 0
            assert alloc.target_type == "LINE_ITEM"
        discounted = base - sum((a.amount for a in li.discount_allocations), Decimal(0))
        assert discounted >= 0
        for tax in li.tax_lines:
            assert tax.price == money(discounted * tax.rate)
        assert li.taxable == bool(li.tax_lines)
    # Every code's allocations add up to what the code is worth on the order.
    for index, app in apps.items():
        if app.target_type != "LINE_ITEM" or app.type == "AUTOMATIC":
            continue
        allocated = sum(
            (a.amount for li in o.line_items for a in li.discount_allocations
             if a.discount_application_index == index),
            Decimal(0),
        )  # fmt: skip
        before = sum(
            (money(li.original_unit_price * li.quantity)
             - sum((a.amount for a in li.discount_allocations
                    if a.discount_application_index < index), Decimal(0))
             for li in o.line_items),
            Decimal(0),
        )  # fmt: skip
        expected = money(before * app.value / 100) if app.value_type == "PERCENTAGE" else app.value
        assert allocated == min(expected, before)
    # Money adds up: the charged amount is the sum of the raw parts.
    raw_total = sum(
        (money(li.original_unit_price * li.quantity)
         - sum((a.amount for a in li.discount_allocations), Decimal(0))
         + sum((t.price for t in li.tax_lines), Decimal(0))
         for li in o.line_items),
        Decimal(0),
    ) + sum(
        (s.original_price - sum((a.amount for a in s.discount_allocations), Decimal(0))
         + sum((t.price for t in s.tax_lines), Decimal(0))
         for s in o.shipping_lines),
        Decimal(0),
    )  # fmt: skip
    raw_total += sum((d.price for li in o.line_items for d in li.duties), Decimal(0))
    raw_total += sum((f.price for f in o.additional_fees), Decimal(0))
    assert (
        o.total_price
        == raw_total
        == (o.subtotal + o.total_shipping + o.total_tax + o.total_duties + o.total_additional_fees)
    )
    if o.total_duties or o.additional_fees:
        assert o.presentment_currency_code != o.currency_code  # cross-border only
    charged = [t for t in o.transactions if t.kind in ("SALE", "CAPTURE", "AUTHORIZATION")]
    assert all(t.amount == raw_total for t in charged)
    assert o.taxes_included is False


def _check_refunds(o: Order) -> None:
    refunded: collections.Counter[int] = collections.Counter()
    returned: dict[int, Decimal] = collections.defaultdict(Decimal)
    paid = [t for t in o.transactions if t.kind in ("SALE", "CAPTURE") and t.status == "SUCCESS"]
    for r in o.refunds:
        assert r.created_at - o.created_at >= (timedelta(0) if o.cancelled_at else timedelta(1))
        for rli in r.refund_line_items:
            refunded[rli.line_item_id] += rli.quantity
            returned[rli.line_item_id] += rli.subtotal
        parts = sum((x.subtotal + x.total_tax for x in r.refund_line_items), Decimal(0)) + sum(
            (s.subtotal + s.tax for s in r.refund_shipping_lines), Decimal(0)
        )
        parts += r.duties_total
        if paid:
            assert r.total_refunded == parts
        else:
            assert r.total_refunded == 0
            assert o.cancelled_at is not None
    for li in o.line_items:
        assert 0 <= refunded[li.id] <= li.quantity
        assert li.current_quantity == li.quantity - refunded[li.id]
        if refunded[li.id] == li.quantity:
            assert returned[li.id] == li.discounted_total
        else:
            assert returned[li.id] < li.discounted_total or li.discounted_total == 0
    assert sum(len(r.refund_shipping_lines) for r in o.refunds) <= len(o.shipping_lines)
    assert o.total_refunded <= o.total_received
    status = o.display_financial_status
    if status == "REFUNDED":
        assert o.total_refunded == o.total_received > 0
    if status == "PARTIALLY_REFUNDED":
        assert 0 < o.total_refunded < o.total_received
    if status == "PAID":
        assert o.total_received == o.total_price
        assert o.total_refunded == 0
    if o.cancelled_at is not None:
        assert o.total_refunded == o.total_received
        assert all(li.current_quantity == 0 for li in o.line_items)
    # Duties come back whole with the refund that returns the last units, and only then.
    everything_back = all(li.current_quantity == 0 for li in o.line_items)
    assert o.current_total_duties == (0 if everything_back else o.total_duties)


def test_money_and_refund_invariants(small_orders: list[Order]) -> None:
    for o in small_orders:
        _check_money(o)
        _check_refunds(o)
        assert o.processed_at <= o.created_at <= o.updated_at
        assert o.updated_at - o.created_at <= MAX_MUTATION_DELAY
    assert len({o.id for o in small_orders}) == len(small_orders)
    assert len({(o.currency_code, o.name) for o in small_orders}) == len(small_orders)


def test_refunds_cross_local_and_utc_midnight_differently() -> None:
    world = World.build(size="small")
    shop = _shop(world, KIRI)
    refunds = [r for o in generate.iter_orders(world, shop) for r in o.refunds]
    assert refunds
    assert any(local_day(r.created_at, shop.timezone) != r.created_at.date() for r in refunds)
    assert any(local_day(r.created_at, shop.timezone) == r.created_at.date() for r in refunds)


def _snapshot(world: World, shop: ShopProfile) -> dict[int, Order]:
    return {o.id: o for o in generate.iter_orders(world, shop)}


def test_advancing_the_clock_creates_and_changes_orders() -> None:
    world = World.build(size="small")
    shop = _shop(world, AURORA)
    t0 = world.now()
    before = _snapshot(world, shop)
    customers_before = {c.id: c for c in generate.iter_customers(world, shop)}
    assert all(o.created_at <= t0 for o in before.values())
    world.advance(timedelta(days=20))
    t1 = world.now()
    after = _snapshot(world, shop)

    created = [o for i, o in after.items() if i not in before]
    assert created
    assert all(t0 < o.created_at <= t1 for o in created)
    changed = [o for i, o in after.items() if i in before and before[i] != o]
    assert all(t0 < o.updated_at <= t1 for o in changed)
    assert any(len(o.refunds) > len(before[o.id].refunds) for o in changed)
    assert any(o.note != before[o.id].note for o in changed)
    assert any(o.display_fulfillment_status != before[o.id].display_fulfillment_status
               for o in changed)  # fmt: skip
    # Unchanged orders are byte-for-byte the same objects as before.
    assert all(before[i] == o for i, o in after.items() if i in before and o.updated_at <= t0)

    gone = set(before) - set(after)
    deleted_in_window = {
        o.id
        for o in generate.iter_orders(world, shop, include_deleted=True)
        if o.deleted_at is not None and o.deleted_at > t0
    }
    deletions = {e.order_id: e for e in generate.iter_deletions(world, shop, since=t0)}
    assert deletions
    assert gone <= set(deletions)
    assert set(deletions) == deleted_in_window
    assert all(t0 < e.occurred_at <= t1 for e in deletions.values())
    for order_id in gone:
        assert generate.get_order(world, shop, order_id) is None

    # updated_at_min returns exactly the new and changed orders, in (updated_at, id) order.
    incremental = list(generate.iter_orders(world, shop, updated_at_min=t0 + timedelta(seconds=1)))
    assert {o.id for o in incremental} == {o.id for o in created} | {o.id for o in changed}
    keys = [(o.updated_at, o.id) for o in incremental]
    assert keys == sorted(keys)
    assert all(after[o.id] == o for o in incremental)
    with_deleted = generate.iter_orders(
        world, shop, updated_at_min=t0 + timedelta(seconds=1), include_deleted=True
    )
    assert {o.id for o in with_deleted if o.deleted_at is not None} == deleted_in_window

    customers_after = {c.id: c for c in generate.iter_customers(world, shop)}
    changed_customers = {i for i, c in customers_after.items() if customers_before.get(i) != c}
    assert changed_customers
    recent = list(generate.iter_customers(world, shop, updated_at_min=t0 + timedelta(seconds=1)))
    assert {c.id for c in recent} == changed_customers
    assert [(c.updated_at, c.id) for c in recent] == sorted((c.updated_at, c.id) for c in recent)


def test_gaps_do_not_hide_a_deletion_event() -> None:
    """The deletion feed of the whole history matches the orders that vanished."""
    world = World.build(size="small")
    shop = _shop(world, AURORA)
    every = {o.id: o for o in generate.iter_orders(world, shop, include_deleted=True)}
    live = {o.id for o in generate.iter_orders(world, shop)}
    events = list(generate.iter_deletions(world, shop))
    assert events
    assert {e.order_id for e in events} == set(every) - live
    assert all(every[e.order_id].deleted_at == e.occurred_at for e in events)
    assert all(every[e.order_id].cancelled_at or every[e.order_id].test for e in events)


def test_get_order_and_customer_match_iteration() -> None:
    world = World.build()
    shop = _shop(world, KIRI)
    orders = list(generate.iter_orders(world, shop))
    for o in orders[::17]:
        assert generate.get_order(world, shop, o.id) == o
    customers = {c.id: c for c in generate.iter_customers(world, shop)}
    for c in list(customers.values())[::13]:
        assert generate.get_customer(world, shop, c.id) == c
    assert generate.get_order(world, shop, 1) is None
    assert generate.get_order(world, shop, max(o.id for o in orders) + 10_000_000) is None
    counts = collections.Counter(o.customer_id for o in orders if o.customer_id)
    for cid, n in list(counts.items())[:50]:
        assert customers[cid].number_of_orders == n
    spent: dict[int, Decimal] = collections.defaultdict(Decimal)
    for o in orders:
        if o.customer_id and not o.test:
            spent[o.customer_id] += o.total_received - o.total_refunded
    assert all(customers[cid].amount_spent == v for cid, v in spent.items())


def test_a_future_order_does_not_exist_yet() -> None:
    world = World.build()
    shop = _shop(world, AURORA)
    later = World.build(anchor=world.anchor)
    later.advance(timedelta(days=2))
    future = [o for o in generate.iter_orders(later, shop) if o.created_at > world.now()]
    assert future
    assert generate.get_order(world, shop, future[0].id) is None
    assert generate.get_order(later, shop, future[0].id) == future[0]


def _rss() -> int:
    return int(psutil.Process().memory_info().rss)


@pytest.mark.slow
def test_a_bench_shop_streams_with_flat_memory() -> None:
    world = World.build(size="bench")
    shop = _shop(world, AURORA)
    count, peak_after_warmup, warm = 0, 0, 0
    last: datetime | None = None
    stats: dict[str, Any] = {}
    for order in generate.iter_orders(world, shop):
        count += 1
        assert last is None or order.updated_at >= last
        last = order.updated_at
        if count == 10_000:
            warm = _rss()
        elif count % 10_000 == 0:
            peak_after_warmup = max(peak_after_warmup, _rss())
    stats["growth_mb"] = (peak_after_warmup - warm) / 1e6
    assert count > 100_000
    # Holding 100k orders would take ~400 MB; streaming keeps growth to caches and the heap.
    assert stats["growth_mb"] < 25, stats
