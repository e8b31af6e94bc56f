"""Refunds and cancellations of one order, replayed in time order up to the sandbox clock.

What each refund returns is planned from the order's own key whether or not it is visible yet,
so advancing the clock reveals refunds without changing earlier ones. Amounts are cumulative
differences (`_cum`), so all refunds of a line together return exactly its discounted total and
tax, and a refunded quantity never exceeds what was ordered.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, replace
from datetime import datetime
from decimal import Decimal

from sandbox.shopify.model import (
    ZERO,
    AdditionalFee,
    LineItem,
    OrderAdjustment,
    Refund,
    RefundDuty,
    RefundLineItem,
    RefundShippingLine,
    RestockType,
    ShippingLine,
    Transaction,
    money,
)
from sandbox.shopify.mutations import Fate

_NOTES = ("Customer returned item", "Damaged in transit", "Wrong size", None, None)


@dataclass(frozen=True)
class _Plan:
    at: datetime
    note: str | None
    items: tuple[tuple[int, int, RestockType], ...]  # (line index, quantity, restock type)
    shipping: bool


def _plan(rng: random.Random, fate: Fate, lines: tuple[LineItem, ...]) -> list[_Plan]:
    if fate.cancel_at is not None:
        cancel: RestockType = "CANCEL"
        partial: list[_Plan] = []
        remaining = [li.quantity for li in lines]
        if fate.shapes.partial_at is not None:  # "cancel_after_refund": one unit back first
            first = int(fate.shapes.pick * len(lines))
            remaining[first] -= 1
            partial = [_Plan(fate.shapes.partial_at, "Customer returned item",
                             ((first, 1, "NO_RESTOCK"),), False)]  # fmt: skip
        items = tuple((i, q, cancel) for i, q in enumerate(remaining) if q > 0)
        return [*partial, _Plan(fate.cancel_at, "Order canceled", items, True)]
    remaining = [li.quantity for li in lines]
    plans = []
    for k, at in enumerate(fate.refund_ats):
        full = k == len(fate.refund_ats) - 1 and rng.random() < 0.4
        restock: RestockType = "RETURN" if rng.random() < 0.7 else "NO_RESTOCK"
        note = rng.choice(_NOTES)
        ship_roll, pick, qty_roll, second = (rng.random() for _ in range(4))
        open_lines = [i for i, r in enumerate(remaining) if r > 0]
        if not open_lines:
            break
        if full:
            chosen = [(i, remaining[i]) for i in open_lines]
        else:
            first = open_lines[int(pick * len(open_lines))]
            chosen = [(first, 1 + int(qty_roll * remaining[first]))]
            if second < 0.3 and len(open_lines) > 1:
                other = open_lines[(open_lines.index(first) + 1) % len(open_lines)]
                chosen.append((other, remaining[other]))
        for i, q in chosen:
            remaining[i] -= q
        items = tuple((i, q, restock) for i, q in chosen)
        plans.append(_Plan(at, note, items, full or ship_roll < 0.25))
    return plans


def _cum(amount: Decimal, units: int, of: int) -> Decimal:
    return money(amount * units / of)


def apply(
    rng: random.Random,
    oid: int,
    fate: Fate,
    lines: tuple[LineItem, ...],
    shipping: tuple[ShippingLine, ...],
    payments: list[Transaction],
    now: datetime,
    *,
    taxes_included: bool = False,
    fees: tuple[AdditionalFee, ...] = (),
) -> tuple[tuple[LineItem, ...], tuple[Refund, ...], list[Transaction]]:
    """The visible refunds, their REFUND transactions and the lines' current quantities.

    With taxes included the subtotals already hold the tax, so the money returned is the
    subtotals alone. With the "adjustments" shape the first partial refund (not a cancellation)
    carries its first line's money on an order adjustment instead, the line at 0.00, as Shopify
    shows when a refund's amount is entered by hand. `fees` ("fee_refunds" shape) are given back
    with the duties, by the refund that returns the last units.
    """
    paid = [t for t in payments if t.kind in ("SALE", "CAPTURE") and t.status == "SUCCESS"]
    refunded = [0] * len(lines)
    shipping_done = False
    out: list[Refund] = []
    txns: list[Transaction] = []
    line_item_seq = 0
    for r_index, plan in enumerate(_plan(rng, fate, lines)):
        if plan.at > now:
            break
        items = []
        for i, q, restock in plan.items:
            li, before = lines[i], refunded[i]
            subtotal = _cum(li.discounted_total, before + q, li.quantity) - _cum(
                li.discounted_total, before, li.quantity
            )
            tax = _cum(li.total_tax, before + q, li.quantity) - _cum(
                li.total_tax, before, li.quantity
            )
            items.append(
                RefundLineItem(oid * 100 + 70 + line_item_seq, li.id, q, restock,
                               li.original_unit_price, subtotal, tax)
            )  # fmt: skip
            line_item_seq += 1
            refunded[i] += q
        adjustments: tuple[OrderAdjustment, ...] = ()
        if fate.shapes.outside_lines and r_index == 0 and fate.cancel_at is None and items:
            moved = items[0]
            net = moved.subtotal - moved.total_tax if taxes_included else moved.subtotal
            adjustments = (OrderAdjustment(oid * 100 + 85, -net, -moved.total_tax),)
            items[0] = replace(moved, subtotal=ZERO, total_tax=ZERO)
        ship_refunds: tuple[RefundShippingLine, ...] = ()
        if plan.shipping and shipping and not shipping_done:
            s = shipping[0]
            shipping_done = True
            if s.discounted_price > 0 or s.total_tax > 0:
                ship_refunds = (
                    RefundShippingLine(oid * 100 + 90 + r_index, s.id, s.discounted_price,
                                       s.total_tax),
                )  # fmt: skip
        # The refund that returns the last units gives the duties back too (whole, once).
        duties: tuple[RefundDuty, ...] = ()
        duty_tax = ZERO
        fees_back: tuple[AdditionalFee, ...] = ()
        if all(n == li.quantity for n, li in zip(refunded, lines, strict=True)):
            duties = tuple(RefundDuty(d.id, d.price) for li in lines for d in li.duties)
            duty_tax = sum((t.price for li in lines for d in li.duties for t in d.tax_lines), ZERO)
            fees_back = fees
        added_tax = not taxes_included
        amount = sum((r.subtotal + r.total_tax * added_tax for r in items), ZERO) + sum(
            (s.subtotal + s.tax * added_tax for s in ship_refunds), ZERO
        )
        amount += sum((-a.amount - a.tax for a in adjustments), ZERO)  # amounts exclude tax
        amount += sum((d.amount for d in duties), ZERO) + duty_tax
        amount += sum((f.price for f in fees_back), ZERO)
        amount += sum((t.price for f in fees_back for t in f.tax_lines), ZERO)
        refund_txns: tuple[Transaction, ...] = ()
        if paid and amount > 0:
            parent = paid[-1]
            refund_txns = (
                Transaction(oid * 100 + 50 + r_index, "REFUND", "SUCCESS", parent.gateway,
                            amount, plan.at, plan.at, parent.id, fate.test),
            )  # fmt: skip
            txns.extend(refund_txns)
        out.append(
            Refund(oid * 100 + 60 + r_index, plan.at, plan.at, plan.at, plan.note, tuple(items),
                   ship_refunds, refund_txns, duties, adjustments, duty_tax, fees_back)
        )  # fmt: skip
    current = tuple(
        replace(li, current_quantity=li.quantity - n) if n else li
        for li, n in zip(lines, refunded, strict=True)
    )
    return current, tuple(out), txns
