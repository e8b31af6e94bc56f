"""What Shopify's sales report would show per shop-local day, summed from the sandbox's own orders.

The rules, each with its public Shopify source, are docs/shopify-sales-report.md; in short (shop
money; "net of tax" matters only for orders whose prices include tax):
- orders: orders placed that day (by processed_at, so imported orders land on their original
  day), cancelled, pending and unpaid ones included; test and deleted orders never count. An
  edit made on a later day counts once more on the edit's day ("the edit displays as a separate
  order in your reports").
- gross_sales: Σ line original price * quantity, net of tax, on the order's day (a line added by
  an edit or as an exchange item: on that day). Gift card lines are never sales.
- discounts: Σ line discount allocations (net of tax), on the same day as the line's gross.
- returns: refund line item subtotals (net of tax, gift cards excluded) on the refund's day, a
  cancellation's refund included; units an edit removed, on the edit's day; refunded money on
  no refund line (Refund.orderAdjustments), on the refund's day.
- net_sales = gross_sales - discounts - returns.
- shipping: shipping price - shipping discounts (net of tax) on the order's day, minus refunded
  shipping on the refund's day.
- taxes: every tax line (lines, shipping, duties, fees) on the day its sale is booked, minus
  refunded taxes on the refund's (or removing edit's) day.
- duties / additional_fees: charged on the order's day; refunded duties and fees (and their
  tax) leave on the refund's day.
- return_fees: restocking and return shipping fees kept on a return, on the return's day.
- total_sales = net_sales + shipping + duties + additional_fees + return_fees + taxes. Tips are
  never sales.
- aov = (gross_sales - discounts) / orders, rounded half-up to the cent (as SQL round() does);
  None on a day without orders.
Orders whose shop money is not in the shop's currency are never summed: `flagged` lists them.

It walks orders through `iter_orders_created` and sums raw fields (never the protocol layer or
the product's SQL), so a mistake on either side shows up as a mismatch. Only what is visible at
`world.now()` counts: refunds still in the future are not returns yet.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from sandbox.shopify import profile
from sandbox.shopify.days import local_day
from sandbox.shopify.generate import iter_orders_created
from sandbox.shopify.model import CENT, ZERO, LineItem, Order, money
from sandbox.shopify.mutations import MAX_IMPORT_BACKDATE, MAX_MUTATION_DELAY
from sandbox.world import ShopProfile, World

MONEY_FIELDS = ("gross_sales", "discounts", "returns", "net_sales", "shipping", "taxes",
                "duties", "additional_fees", "return_fees", "total_sales")  # fmt: skip
_SUMS = ("gross_sales", "discounts", "returns", "shipping", "taxes", "duties", "additional_fees",
         "return_fees")  # fmt: skip
Sums = dict[str, Decimal]


def _empty() -> dict[str, Decimal]:
    return dict.fromkeys(_SUMS, ZERO)


def _row(day: date, currency: str, orders: int, sums: dict[str, Decimal]) -> dict[str, Any]:
    net = sums["gross_sales"] - sums["discounts"] - sums["returns"]
    total = (net + sums["shipping"] + sums["taxes"] + sums["duties"] + sums["additional_fees"]
             + sums["return_fees"])  # fmt: skip
    aov = None
    if orders:
        aov = ((sums["gross_sales"] - sums["discounts"]) / orders).quantize(CENT, ROUND_HALF_UP)
    return {
        "date": day.isoformat(),
        "currency": currency,
        "orders": orders,
        "gross_sales": str(sums["gross_sales"]),
        "discounts": str(sums["discounts"]),
        "returns": str(sums["returns"]),
        "net_sales": str(net),
        "shipping": str(sums["shipping"]),
        "taxes": str(sums["taxes"]),
        "duties": str(sums["duties"]),
        "additional_fees": str(sums["additional_fees"]),
        "return_fees": str(sums["return_fees"]),
        "total_sales": str(total),
        "aov": str(aov) if aov is not None else None,
    }


def daily(world: World, shop: ShopProfile, date_from: date, date_to: date) -> list[dict[str, Any]]:
    """One dict per shop-local day in [date_from, date_to] (money as decimal strings)."""
    days = [date_from + timedelta(days=i) for i in range((date_to - date_from).days + 1)]
    sums = {d: _empty() for d in days}
    counts = dict.fromkeys(days, 0)
    tz = profile.timezone(world, shop)  # the CURRENT timezone buckets all history, like Shopify
    # Orders whose sales or refunds can land in the range: refunds come at most
    # MAX_MUTATION_DELAY after creation, imported orders are processed at most
    # MAX_IMPORT_BACKDATE before it (two extra days absorb any two timezones' offsets).
    first = date_from - MAX_MUTATION_DELAY - timedelta(days=2)
    last = date_to + MAX_IMPORT_BACKDATE + timedelta(days=2)
    for order in iter_orders_created(world, shop, first, last):
        if order.test or order.currency_code != shop.currency:
            continue
        _book(order, tz, sums, counts)
    return [_row(d, shop.currency, counts[d], sums[d]) for d in days]


def _net(amount: Decimal, tax: Decimal, included: bool) -> Decimal:
    """An amount without its tax: prices that include tax give it up here."""
    return amount - tax if included else amount


def _line_sale(li: LineItem, included: bool) -> tuple[Decimal, Decimal, Decimal]:
    """(gross, discounts, taxes) of a line, net of tax.

    With taxes included, gross is the original price less the tax it contains (each tax line's
    rate r of the line's total rate R: price·r/(1+R), rounded per tax line as Shopify rounds tax
    lines), and discounts are what brings that gross down to the discounted price less its tax.
    """
    tax = li.total_tax
    if not included:
        return li.original_total, li.total_discount, tax
    rate = sum((t.rate for t in li.tax_lines), ZERO)
    contained = sum((money(li.original_total * t.rate / (1 + rate)) for t in li.tax_lines), ZERO)
    gross = li.original_total - contained
    return gross, gross - (li.discounted_total - tax), tax


def _book(order: Order, tz: str, sums: dict[date, Sums], counts: dict[date, int]) -> None:
    """Add one order's sales, edits, returns and refunds to the days they belong to."""
    incl = order.taxes_included
    lines = {li.id: li for li in order.line_items}

    def at(day: date) -> Sums | None:
        return sums.get(day)

    order_day = local_day(order.processed_at, tz)
    if order_day in counts:
        counts[order_day] += 1
    row = at(order_day)
    for li in order.line_items:
        target = at(local_day(li.added_at, tz)) if li.added_at is not None else row
        if target is None or li.is_gift_card:
            continue
        gross, discounts, tax = _line_sale(li, incl)
        target["gross_sales"] += gross
        target["discounts"] += discounts
        target["taxes"] += tax
    if row is not None:
        for s in order.shipping_lines:
            row["shipping"] += _net(s.discounted_price, s.total_tax, incl)
            row["taxes"] += s.total_tax
        row["duties"] += order.total_duties
        row["additional_fees"] += order.total_additional_fees
        row["taxes"] += order.charges_tax
    for agreement in order.agreements:
        if agreement.reason != "ORDER_EDIT":
            continue
        edit_day = local_day(agreement.happened_at, tz)
        if edit_day != order_day and edit_day in counts:
            counts[edit_day] += 1  # an edit on a later day shows as an order of its own
        target = at(edit_day)
        for li in order.line_items:
            if target is not None and li.removed_quantity:
                target["returns"] += _net(li.removed_subtotal, li.removed_tax, incl)
                target["taxes"] -= li.removed_tax
    for refund in order.refunds:
        target = at(local_day(refund.created_at, tz))
        if target is None:
            continue
        for rli in refund.refund_line_items:
            if lines[rli.line_item_id].is_gift_card:
                continue
            target["returns"] += _net(rli.subtotal, rli.total_tax, incl)
            target["taxes"] -= rli.total_tax
        for rsl in refund.refund_shipping_lines:
            target["shipping"] -= _net(rsl.subtotal, rsl.tax, incl)
            target["taxes"] -= rsl.tax
        target["duties"] -= refund.duties_total
        target["taxes"] -= refund.duty_tax
        target["additional_fees"] -= refund.fees_total  # rule 13: fees given back
        target["taxes"] -= refund.fee_tax
        for adjustment in refund.order_adjustments:
            target["returns"] -= adjustment.amount
            target["taxes"] += adjustment.tax
    for ret in order.returns:
        target = at(local_day(ret.created_at, tz))
        if target is not None:
            target["return_fees"] += ret.fees


def flagged(world: World, shop: ShopProfile, date_from: date, date_to: date) -> list[str]:
    """Names of the orders placed in the range whose shop money is in another currency."""
    tz = profile.timezone(world, shop)
    return [
        o.name
        for o in iter_orders_created(
            world, shop, date_from - timedelta(days=2), date_to + timedelta(days=2)
        )
        if o.currency_code != shop.currency
        and not o.test
        and date_from <= local_day(o.processed_at, tz) <= date_to
    ]


def totals(rows: Iterable[dict[str, Any]]) -> dict[str, Any]:
    """The range's totals (AOV recomputed from the sums, not averaged over days)."""
    rows = list(rows)
    sums = _empty()
    orders = 0
    currency = rows[0]["currency"] if rows else ""
    for r in rows:
        orders += r["orders"]
        for k in sums:
            sums[k] += Decimal(r[k])
    out = _row(date.min, currency, orders, sums)
    out.pop("date")
    return out
