"""Apply an order's shape plan (shapes.py) to its lines, refunds and transactions.

Each function takes the order as build.py has it so far and returns what the shape adds; nothing
here runs for shops without shapes. Amounts follow Shopify's arithmetic as the rest of the
sandbox does: per-line rounding, tax on the discounted price (inside it when taxes are included).
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import datetime
from decimal import Decimal

from sandbox.shopify.catalog import PRODUCT_ID_BASE, Catalog, Variant, shop_block
from sandbox.shopify.model import (
    ZERO,
    Agreement,
    LineItem,
    OrderAdjustment,
    Refund,
    RefundLineItem,
    RefundShippingLine,
    Return,
    Sale,
    SaleActionType,
    ShippingLine,
    TaxLine,
    Transaction,
    money,
)
from sandbox.shopify.mutations import Fate

_GIFT_CARDS = (Decimal(25), Decimal(50), Decimal(100))
_RETURN_LABEL = Decimal("7.50")


def taxes(cat: Catalog, amount: Decimal, included: bool) -> tuple[TaxLine, ...]:
    """Tax lines on a discounted amount: added on top, or the part of it that is tax."""
    if not included:
        return tuple(TaxLine(title, rate, money(amount * rate)) for title, rate in cat.taxes)
    total_rate = sum((rate for _, rate in cat.taxes), ZERO)
    return tuple(
        TaxLine(title, rate, money(amount * rate / (1 + total_rate))) for title, rate in cat.taxes
    )


def gift_card(shop_id: str, cat: Catalog, oid: int, index: int, denomination: int) -> LineItem:
    """A gift card line: untaxed, not shipped, never discounted."""
    price = _GIFT_CARDS[denomination] * (Decimal("1.5") if cat.currency == "AUD" else 1)
    product = PRODUCT_ID_BASE + shop_block(shop_id) + 9_900
    return LineItem(
        id=oid * 100 + index, title="Gift Card", variant_title=f"{price:.0f}",
        variant_id=product * 10 + denomination, product_id=product, sku=f"GIFT-{price:.0f}",
        vendor="Shopify", quantity=1, current_quantity=1, original_unit_price=price,
        discount_allocations=(), tax_lines=(), taxable=False, requires_shipping=False,
        is_gift_card=True,
    )  # fmt: skip


def _new_line(
    oid: int, k: int, variant: Variant, cat: Catalog, included: bool, at: datetime
) -> LineItem:
    return LineItem(
        id=oid * 100 + k, title=variant.title, variant_title=variant.variant_title,
        variant_id=variant.variant_id, product_id=variant.product_id, sku=variant.sku,
        vendor=variant.vendor, quantity=1, current_quantity=1,
        original_unit_price=variant.price, discount_allocations=(),
        tax_lines=taxes(cat, variant.price, included) if variant.taxable else (),
        taxable=variant.taxable, requires_shipping=variant.requires_shipping, added_at=at,
    )  # fmt: skip


def _money(li: LineItem, subtotal: Decimal, tax: Decimal, included: bool) -> Decimal:
    """What the customer pays for `subtotal` of a line (tax on top unless included)."""
    return subtotal if included else subtotal + tax


def _sale(sid: int, action: str, li: LineItem, units: int, included: bool) -> Sale:
    subtotal = money(li.discounted_total * units / li.quantity)
    tax = money(li.total_tax * units / li.quantity)
    discount = money(li.total_discount * units / li.quantity)
    sign = -1 if action == "RETURN" else 1
    paid = _money(li, subtotal, tax, included)
    action_type: SaleActionType = "RETURN" if sign < 0 else "ORDER"
    return Sale(sid, action_type, li.id, sign * units, sign * paid, sign * discount, sign * tax)


@dataclass
class Shaped:
    """What a shape adds to an order: lines replaced or added, refunds, payments, agreements."""

    lines: tuple[LineItem, ...]
    refunds: list[Refund] = field(default_factory=list)
    transactions: list[Transaction] = field(default_factory=list)
    agreements: list[Agreement] = field(default_factory=list)
    returns: list[Return] = field(default_factory=list)


def _goods(lines: tuple[LineItem, ...]) -> list[int]:
    return [i for i, li in enumerate(lines) if not li.is_gift_card and li.added_at is None]


def edit(
    oid: int, fate: Fate, lines: tuple[LineItem, ...], cat: Catalog, included: bool,
    now: datetime, gateway: str,
) -> Shaped:  # fmt: skip
    """An order edit that adds lines (paid at once) or removes a unit (no refund)."""
    out = Shaped(lines)
    at, change, pick = fate.edit_at, fate.shapes.edit_change, fate.shapes.pick
    if at is None or change is None or at > now:
        return out
    if change == "add":
        # Line ids oid·100 + 15, then 14, 13, … for a big edit (an order's own lines are 0-4).
        n, first = fate.shapes.edit_lines, int(pick * len(cat.variants))
        variants = [cat.variants[(first + j) % len(cat.variants)] for j in range(n)]
        added = [_new_line(oid, 15 - j, v, cat, included, at) for j, v in enumerate(variants)]
        out.lines = (*lines, *added)
        paid = sum((_money(a, a.discounted_total, a.total_tax, included) for a in added), ZERO)
        out.transactions.append(Transaction(oid * 100 + 48, "SALE", "SUCCESS", gateway, paid, at,
                                            at, None, False))  # fmt: skip
        # Sale ids oid·100 + 82 + j: an edited order has no return (83, 84 stay free).
        sales = tuple(
            _sale(oid * 100 + 82 + j, "ORDER", a, 1, included) for j, a in enumerate(added)
        )
        out.agreements.append(Agreement(oid * 100 + 80, "ORDER_EDIT", at, sales))
        return out
    goods = _goods(lines)
    i = goods[int(pick * len(goods))]
    li = lines[i]
    removed = replace(li, current_quantity=li.current_quantity - 1, removed_quantity=1)
    out.lines = (*lines[:i], removed, *lines[i + 1 :])
    sale = _sale(oid * 100 + 82, "RETURN", li, 1, included)
    out.agreements.append(Agreement(oid * 100 + 80, "ORDER_EDIT", at, (sale,)))
    return out


def event(
    oid: int, name: str, fate: Fate, lines: tuple[LineItem, ...],
    shipping: tuple[ShippingLine, ...], cat: Catalog, included: bool, now: datetime,
    gateway: str, parent: int | None,
) -> Shaped:  # fmt: skip
    """A goodwill refund, a shipping-only refund, or a return (maybe an exchange) with a fee."""
    out = Shaped(lines)
    plan = fate.shapes
    at = plan.event_at
    if at is None or plan.event is None or at > now:
        return out
    rid = oid * 100 + 66

    def refund_txn(amount: Decimal) -> tuple[Transaction, ...]:
        if amount <= 0:
            return ()
        txn = Transaction(oid * 100 + 56, "REFUND", "SUCCESS", gateway, amount, at, at, parent,
                          False)  # fmt: skip
        out.transactions.append(txn)
        return (txn,)

    goods = _goods(lines)
    if plan.event == "goodwill":
        base = sum((lines[i].discounted_total for i in goods), ZERO)
        amount = money(base * (Decimal("0.1") + Decimal(str(round(plan.pick, 2))) / 10))
        adjustment = OrderAdjustment(oid * 100 + 86, -amount, ZERO)
        out.refunds.append(Refund(rid, at, at, at, "Goodwill", (), (), refund_txn(amount), (),
                                  (adjustment,)))  # fmt: skip
        return out
    if plan.event == "shipping_refund":
        if not shipping or shipping[0].discounted_price <= 0:
            return out
        s = shipping[0]
        rsl = RefundShippingLine(oid * 100 + 93, s.id, s.discounted_price, s.total_tax)
        amount = s.discounted_price if included else s.discounted_price + s.total_tax
        out.refunds.append(Refund(rid, at, at, at, "Shipping refund", (), (rsl,),
                                  refund_txn(amount)))  # fmt: skip
        return out
    i = goods[int(plan.pick * len(goods))]
    li = lines[i]
    subtotal = money(li.discounted_total / li.quantity)
    tax = money(li.total_tax / li.quantity)
    net = subtotal - tax if included else subtotal
    fee = money(net * plan.restocking_percent / 100)
    # A prepaid return label the customer pays for (Return.returnShippingFees, live capture
    # "return-shipping-fee-recorded": 7.50) on half the plain returns.
    label = _RETURN_LABEL if plan.event == "return" and plan.pick < 0.5 else ZERO
    rli = RefundLineItem(oid * 100 + 78, li.id, 1, "RETURN", li.original_unit_price, subtotal, tax)
    sales = [_sale(oid * 100 + 83, "RETURN", li, 1, included)]
    new_lines = list(lines)
    new_lines[i] = replace(li, current_quantity=li.current_quantity - 1)
    back = _money(li, subtotal, tax, included) - fee - label
    exchange_id = None
    if plan.event == "exchange":
        variant = cat.variants[(cat.variants.index(_variant(cat, li)) + 1) % len(cat.variants)]
        swapped = _new_line(oid, 16, variant, cat, included, at)
        new_lines.append(swapped)
        exchange_id = swapped.id
        sales.append(_sale(oid * 100 + 84, "ORDER", swapped, 1, included))
        back -= _money(swapped, swapped.discounted_total, swapped.total_tax, included)
        if back < 0:  # the customer pays the difference
            out.transactions.append(Transaction(oid * 100 + 57, "SALE", "SUCCESS", gateway, -back,
                                                at, at, None, False))  # fmt: skip
    out.lines = tuple(new_lines)
    out.refunds.append(Refund(rid, at, at, at, "Return", (rli,), (), refund_txn(back)))
    out.returns.append(Return(oid * 100 + 87, "R1", at, li.id, 1, plan.restocking_percent, fee,
                              exchange_id, rid, label))  # fmt: skip
    out.agreements.append(Agreement(oid * 100 + 81, "RETURN", at, tuple(sales), oid * 100 + 87))
    return out


def _variant(cat: Catalog, li: LineItem) -> Variant:
    return next(v for v in cat.variants if v.variant_id == li.variant_id)


def fee_refunds(
    oid: int, refunds: tuple[Refund, ...], lines: tuple[LineItem, ...], included: bool
) -> list[Agreement]:
    """The RefundAgreement of each refund that gives additional fees back ("fee_refunds"): an
    AdditionalFeeSale (RETURN) per fee, and a ProductSale (RETURN) per refunded line, as the
    Sales API lists a refund. Agreement ids oid·100 + 89; sale ids oid·100 + 89 (fees, one
    per order) and the refund line's own number (oid·100 + 70 + k) for its ProductSale."""
    out = []
    by_id = {li.id: li for li in lines}
    for refund in refunds:
        if not refund.fees:
            continue
        sales = [
            Sale(rli.id, "RETURN", rli.line_item_id, -rli.quantity,
                 -_money(by_id[rli.line_item_id], rli.subtotal, rli.total_tax, included),
                 ZERO, -rli.total_tax)
            for rli in refund.refund_line_items
        ]  # fmt: skip
        for fee in refund.fees:
            tax = sum((t.price for t in fee.tax_lines), ZERO)
            sales.append(Sale(oid * 100 + 89, "RETURN", None, -1, -(fee.price + tax), ZERO, -tax,
                              fee))  # fmt: skip
        out.append(Agreement(oid * 100 + 89, "REFUND", refund.created_at, tuple(sales)))
    return out
