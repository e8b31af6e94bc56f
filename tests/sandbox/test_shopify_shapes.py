"""Opt-in order shapes (sandbox/shopify/shapes.py): each occurs, shows through the same Admin API
fields real Shopify uses (over loopback HTTP), and the oracle books it as
docs/shopify-sales-report.md says. Default worlds have none of them."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from decimal import Decimal
from typing import Any

import httpx
import pytest

from sandbox import server
from sandbox.server import RunningSandbox
from sandbox.shopify import generate, oracle, shapes
from sandbox.shopify.days import local_day
from sandbox.shopify.encoding import gid
from sandbox.shopify.model import ZERO, Order
from sandbox.world import ShopProfile, World

AURORA, BERLIN, KIRI = (f"{h}.myshopify.com" for h in ("aurora-goods", "berlin-botanics",
                                                        "kiri-surf"))  # fmt: skip
API = "admin/api/2026-01/graphql.json"
ORDER = """
query One($id: ID!) { order(id: $id) {
  id currencyCode taxesIncluded displayFinancialStatus
  totalTipReceivedSet { shopMoney { amount } }
  currentSubtotalPriceSet { shopMoney { amount } } subtotalPriceSet { shopMoney { amount } }
  currentTotalTaxSet { shopMoney { amount } } totalTaxSet { shopMoney { amount } }
  currentTaxLines { title priceSet { shopMoney { amount } } }
  lineItems(first: 20) { nodes { id isGiftCard quantity currentQuantity
    taxLines { rate priceSet { shopMoney { amount } } }
    duties { taxLines { priceSet { shopMoney { amount } } } } } }
  agreements(first: 5) { nodes { __typename happenedAt reason
    ... on ReturnAgreement { return { name } }
    sales(first: 5) { nodes { actionType quantity ... on ProductSale { lineItem { id } } } } } }
  edited returnStatus
  returns(first: 5) { nodes { name status
    returnShippingFees { amountSet { shopMoney { amount } } }
    returnLineItems(first: 5) { nodes { quantity ... on ReturnLineItem {
      restockingFee { percentage amountSet { shopMoney { amount } } } } } }
    exchangeLineItems(first: 5) { nodes { lineItems { id } } } } }
  refunds { createdAt
    orderAdjustments(first: 5) { nodes { reason amountSet { shopMoney { amount } } } }
    refundLineItems(first: 10) { nodes { subtotalSet { shopMoney { amount } } } }
    refundShippingLines(first: 5) { nodes { subtotalAmountSet { shopMoney { amount } } } } }
} }
"""


@pytest.fixture(scope="module")
def world() -> World:
    return shapes.realistic_world()


@pytest.fixture(scope="module")
def running(world: World) -> Iterator[RunningSandbox]:
    started = server.start(world, platforms=["shopify"])
    yield started
    started.stop()


@pytest.fixture(scope="module")
def orders(world: World) -> dict[str, list[Order]]:
    return {sid: list(generate.iter_orders(world, shop)) for sid, shop in world.shops.items()}


def _api(running: RunningSandbox, shop: ShopProfile, order: Order) -> dict[str, Any]:
    url = f"{running.urls['shopify']}/shops/{shop.handle}/{API}"
    resp = httpx.post(url, json={"query": ORDER, "variables": {"id": gid("Order", order.id)}},
                      headers={"X-Shopify-Access-Token": shop.shopify_token},
                      timeout=10)  # fmt: skip
    body = resp.json()
    assert "errors" not in body, body
    view: dict[str, Any] = body["data"]["order"]
    return view


def _booked(world: World, shop: ShopProfile, order: Order, day: date) -> dict[str, Any]:
    """The oracle's figures of `order` alone on `day` (the day's row minus the row without it)."""
    sums = {day: oracle._empty()}
    counts = {day: 0}
    oracle._book(order, shop.timezone, sums, counts)
    return {"orders": counts[day], **sums[day]}


def _first(orders: list[Order], test: Any) -> Order:
    found = next((o for o in orders if not o.test and test(o)), None)
    assert found is not None
    return found


def test_default_worlds_have_no_shapes() -> None:
    world = World.build()
    assert all(not s.sales_shapes for s in world.shops.values())
    for o in generate.iter_orders(world, world.shops[BERLIN]):
        assert not o.taxes_included
        assert not o.agreements
        assert not o.returns
        assert o.tip == 0
        assert not any(li.is_gift_card for li in o.line_items)


def test_prices_include_tax_in_eur_and_aud_shops_only(
    world: World, running: RunningSandbox, orders: dict[str, list[Order]]
) -> None:
    assert world.shops[AURORA].sales_shapes == shapes.ALL - {"tax_included"}
    for sid in (BERLIN, KIRI):
        shop = world.shops[sid]
        order = _first(orders[sid], lambda o: o.shipping_lines and o.shipping_lines[0].total_tax
                       and not o.refunds and not o.agreements and not o.additional_fees
                       and not any(li.total_discount or li.is_gift_card or li.duties
                                   for li in o.line_items))  # fmt: skip
        view = _api(running, shop, order)
        assert view["taxesIncluded"] is True
        day = local_day(order.processed_at, shop.timezone)
        booked = _booked(world, shop, order, day)
        paid = order.subtotal + order.total_shipping
        assert order.total_price == paid  # the tax is inside the prices, not added
        assert booked["gross_sales"] + booked["shipping"] + booked["taxes"] == paid
        assert booked["taxes"] == order.total_tax > 0
        li = order.line_items[0]
        rate = sum((t.rate for t in li.tax_lines), ZERO)
        assert booked["gross_sales"] >= sum(o.original_total for o in order.line_items) / (
            1 + rate) - Decimal("0.05")  # fmt: skip
    assert not any(o.taxes_included for o in orders[AURORA])


def test_gift_cards_are_never_sales(
    world: World, running: RunningSandbox, orders: dict[str, list[Order]]
) -> None:
    shop = world.shops[AURORA]
    order = _first(orders[AURORA], lambda o: any(li.is_gift_card for li in o.line_items))
    view = _api(running, shop, order)
    assert any(li["isGiftCard"] for li in view["lineItems"]["nodes"])
    day = local_day(order.processed_at, shop.timezone)
    goods = sum((li.original_total for li in order.line_items if not li.is_gift_card), ZERO)
    assert _booked(world, shop, order, day)["gross_sales"] == goods


def test_a_later_day_edit_changes_current_fields_and_books_on_its_day(
    world: World, running: RunningSandbox, orders: dict[str, list[Order]]
) -> None:
    def later_edit(o: Order, tz: str, change: str) -> bool:
        """Removals only come before fulfilment, so they are rarely on a later day."""
        later = change == "remove" or any(
            local_day(a.happened_at, tz) != local_day(o.processed_at, tz) for a in o.agreements
        )
        return later and any(a.reason == "ORDER_EDIT" for a in o.agreements) and (
            any(li.removed_quantity for li in o.line_items) == (change == "remove"))  # fmt: skip

    shop, removed = next(
        (world.shops[sid], o) for sid, found in orders.items() for o in found
        if later_edit(o, world.shops[sid].timezone, "remove")
    )  # fmt: skip
    tz = shop.timezone
    view = _api(running, shop, removed)
    line = next(li for li in view["lineItems"]["nodes"] if li["quantity"] != li["currentQuantity"])
    assert line["taxLines"]  # the original tax lines stay
    assert view["subtotalPriceSet"] != view["currentSubtotalPriceSet"]
    assert view["totalTaxSet"] != view["currentTotalTaxSet"]
    assert view["currentTaxLines"]
    assert view["refunds"] == []  # an edit creates no refund
    assert view["edited"] is True
    (agreement,) = view["agreements"]["nodes"]
    assert agreement["__typename"] == "OrderEditAgreement"
    assert agreement["sales"]["nodes"][0]["actionType"] == "RETURN"
    edit_day = local_day(removed.agreements[0].happened_at, tz)
    li = next(li for li in removed.line_items if li.removed_quantity)
    booked = _booked(world, shop, removed, edit_day)
    assert booked["orders"] == 1  # the order itself, or the edit shown as an order of its own
    assert booked["returns"] == li.removed_subtotal
    assert booked["taxes"] == -li.removed_tax
    added = _first(orders[shop.shop_id], lambda o: later_edit(o, tz, "add"))
    new = next(li for li in added.line_items if li.added_at is not None)
    assert new.added_at is not None
    on_edit_day = _booked(world, shop, added, local_day(new.added_at, tz))
    assert on_edit_day["gross_sales"] == new.original_total
    assert on_edit_day["orders"] == 1


def test_order_adjustments_carry_refund_money_outside_refund_lines(
    world: World, running: RunningSandbox, orders: dict[str, list[Order]]
) -> None:
    shop = world.shops[BERLIN]
    goodwill = _first(orders[BERLIN], lambda o: any(
        r.order_adjustments and not r.refund_line_items for r in o.refunds))  # fmt: skip
    outside = _first(orders[BERLIN], lambda o: any(
        r.order_adjustments and r.refund_line_items for r in o.refunds))  # fmt: skip
    for order in (goodwill, outside):
        view = _api(running, shop, order)
        refund = next(r for r in view["refunds"] if r["orderAdjustments"]["nodes"])
        assert refund["orderAdjustments"]["nodes"][0]["reason"] == "REFUND_DISCREPANCY"
        model = next(r for r in order.refunds if r.order_adjustments)
        booked = _booked(world, shop, order, local_day(model.created_at, shop.timezone))
        on_lines = sum((r.subtotal - r.total_tax for r in model.refund_line_items), ZERO)
        assert booked["returns"] == on_lines - model.order_adjustments[0].amount
        # Every cent refunded is booked somewhere (returns, taxes, shipping, duties and fees
        # given back on that day).
        money_back = sum((t.amount for t in model.transactions), ZERO)
        charges = booked["shipping"] + booked["duties"] + booked["additional_fees"]
        assert booked["returns"] - booked["taxes"] - charges == money_back


def test_shipping_only_refunds_and_cancellation_after_a_partial_refund(
    world: World, running: RunningSandbox, orders: dict[str, list[Order]]
) -> None:
    shop = world.shops[AURORA]
    order = _first(orders[AURORA], lambda o: any(
        r.refund_shipping_lines and not r.refund_line_items for r in o.refunds))  # fmt: skip
    refund = order.refunds[0]
    booked = _booked(world, shop, order, local_day(refund.created_at, shop.timezone))
    assert booked["returns"] == 0
    assert booked["shipping"] == -refund.shipping_subtotal
    cancelled = _first(orders[AURORA], lambda o: o.cancelled_at is not None and len(o.refunds) > 1)
    assert cancelled.refunds[0].created_at < cancelled.refunds[-1].created_at
    returned = sum((r.line_items_subtotal for r in cancelled.refunds), ZERO)
    assert returned == cancelled.subtotal  # the cancellation returns what the partial did not


def test_returns_with_restocking_fees_and_exchanges(
    world: World, running: RunningSandbox, orders: dict[str, list[Order]]
) -> None:
    shop = world.shops[AURORA]
    exchanged = _first(orders[AURORA], lambda o: any(
        r.exchange_line_item_id and r.restocking_fee for r in o.returns) or any(
        r.exchange_line_item_id for r in o.returns))  # fmt: skip
    with_fee = _first(orders[AURORA], lambda o: any(r.restocking_fee for r in o.returns))
    view = _api(running, shop, exchanged)
    ret = view["returns"]["nodes"][0]
    assert ret["exchangeLineItems"]["nodes"][0]["lineItems"]
    assert view["agreements"]["nodes"][0]["__typename"] == "ReturnAgreement"
    day = local_day(exchanged.returns[0].created_at, shop.timezone)
    new = next(
        li for li in exchanged.line_items if li.id == exchanged.returns[0].exchange_line_item_id
    )
    assert _booked(world, shop, exchanged, day)["gross_sales"] == new.original_total
    view = _api(running, shop, with_fee)
    fee = view["returns"]["nodes"][0]["returnLineItems"]["nodes"][0]["restockingFee"]
    assert fee["percentage"] > 0
    r = with_fee.returns[0]
    assert _booked(world, shop, with_fee, local_day(r.created_at, shop.timezone))[
        "return_fees"] == r.fees >= r.restocking_fee > 0  # fmt: skip
    labelled = _first(orders[AURORA], lambda o: any(r.return_shipping_fee for r in o.returns))
    view = _api(running, shop, labelled)
    (label,) = view["returns"]["nodes"][0]["returnShippingFees"]
    assert Decimal(label["amountSet"]["shopMoney"]["amount"]) == Decimal("7.50")
    assert view["returnStatus"] == "RETURNED"
    assert view["agreements"]["nodes"][0]["return"]["name"] == labelled.returns[0].name


def test_tips_duty_taxes_pending_null_and_foreign_money(
    world: World, running: RunningSandbox, orders: dict[str, list[Order]]
) -> None:
    shop = world.shops[AURORA]
    tipped = _first(orders[AURORA], lambda o: o.tip > 0)
    assert Decimal(_api(running, shop, tipped)["totalTipReceivedSet"]["shopMoney"]["amount"]) > 0
    day = local_day(tipped.processed_at, shop.timezone)
    booked = _booked(world, shop, tipped, day)
    assert tipped.tip not in (booked["gross_sales"], ZERO)
    taxed = _first(
        orders[AURORA] + orders[KIRI],
        lambda o: any(d.tax_lines for li in o.line_items for d in li.duties),
    )
    assert taxed.charges_tax > 0
    pending = _first(orders[AURORA], lambda o: o.display_financial_status is None)
    assert _api(running, shop, pending)["displayFinancialStatus"] is None
    foreign = _first(orders[AURORA], lambda o: o.currency_code != shop.currency)
    assert _api(running, shop, foreign)["currencyCode"] == foreign.currency_code
    day = local_day(foreign.processed_at, shop.timezone)
    assert foreign.name in oracle.flagged(world, shop, day, day)


def test_bulk_files_escape_slashes_and_put_the_parent_last(running: RunningSandbox) -> None:
    shop = running.world.shops[AURORA]
    url = f"{running.urls['shopify']}/shops/{shop.handle}/{API}"
    bulk = ('{ orders(query: "created_at:>=2026-10-25") { edges { node { id '
            "lineItems { edges { node { id } } } } } } }")  # fmt: skip
    mutation = "mutation($q: String!) { bulkOperationRunQuery(query: $q) { bulkOperation { id } } }"
    headers = {"X-Shopify-Access-Token": shop.shopify_token}
    with httpx.Client(timeout=10) as client:
        op = client.post(url, json={"query": mutation, "variables": {"q": bulk}}, headers=headers)
        op_id = op.json()["data"]["bulkOperationRunQuery"]["bulkOperation"]["id"]
        poll = "query($id: ID!) { bulkOperation(id: $id) { status url } }"
        while True:
            state = client.post(url, json={"query": poll, "variables": {"id": op_id}},
                                headers=headers).json()["data"]["bulkOperation"]  # fmt: skip
            if state["status"] == "COMPLETED":
                break
        lines = client.get(state["url"]).content.splitlines()
    assert lines
    assert all(b'"gid:\\/\\/shopify\\/' in line for line in lines)
    children = [line for line in lines if b"__parentId" in line]
    assert children
    assert all(line.endswith(b'"}') and b',"__parentId":"gid:\\/\\/' in line for line in children)
