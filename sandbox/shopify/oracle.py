"""What Shopify's sales report would show per shop-local day, summed from the sandbox's own orders.

Definitions (DESIGN.md §6, Shopify's "Sales over time"), all in shop money:
- orders: orders placed that day (by processed_at, so imported orders land on their original
  day), cancelled, pending and unpaid ones included; test and deleted orders never count.
- gross_sales: Σ line original unit price * quantity, on the order's day.
- discounts: Σ line discount allocations (line-level plus each line's share of order-level codes),
  on the order's day, as a positive number that is subtracted. Shipping discounts are not here.
- returns: Σ refund line item subtotals (the discounted value of the returned units) on the
  refund's day; a cancellation's refund is a return too. Positive, subtracted.
- net_sales = gross_sales - discounts - returns.
- shipping: Σ shipping original price - shipping discounts on the order's day, minus refunded
  shipping on the refund's day.
- taxes: Σ tax lines (lines and shipping) on the order's day, minus refunded taxes on the
  refund's day.
- duties: Σ the order's duties (originalTotalDutiesSet) on the order's day, minus refunded duties
  (Refund.duties) on the refund's day.
- additional_fees: Σ the order's additional fees on the order's day (the sandbox never refunds
  them).
- total_sales = net_sales + shipping + duties + additional_fees + taxes.
- aov = (gross_sales - discounts) / orders, rounded half-up to the cent (as SQL round() does);
  None on a day without orders.

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
from sandbox.shopify.model import CENT, ZERO, money
from sandbox.shopify.mutations import MAX_IMPORT_BACKDATE, MAX_MUTATION_DELAY
from sandbox.world import ShopProfile, World

MONEY_FIELDS = ("gross_sales", "discounts", "returns", "net_sales", "shipping", "taxes",
                "duties", "additional_fees", "total_sales")  # fmt: skip
_SUMS = ("gross_sales", "discounts", "returns", "shipping", "taxes", "duties", "additional_fees")


def _empty() -> dict[str, Decimal]:
    return dict.fromkeys(_SUMS, ZERO)


def _row(day: date, currency: str, orders: int, sums: dict[str, Decimal]) -> dict[str, Any]:
    net = sums["gross_sales"] - sums["discounts"] - sums["returns"]
    total = net + sums["shipping"] + sums["taxes"] + sums["duties"] + sums["additional_fees"]
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
        if order.test:
            continue
        day = local_day(order.processed_at, tz)
        if day in sums:
            row = sums[day]
            counts[day] += 1
            for li in order.line_items:
                row["gross_sales"] += money(li.original_unit_price * li.quantity)
                row["discounts"] += sum((a.amount for a in li.discount_allocations), ZERO)
                row["taxes"] += sum((t.price for t in li.tax_lines), ZERO)
            for s in order.shipping_lines:
                row["shipping"] += s.original_price - sum(
                    (a.amount for a in s.discount_allocations), ZERO
                )
                row["taxes"] += sum((t.price for t in s.tax_lines), ZERO)
            row["duties"] += sum((d.price for li in order.line_items for d in li.duties), ZERO)
            row["additional_fees"] += sum((f.price for f in order.additional_fees), ZERO)
        for refund in order.refunds:
            refund_day = local_day(refund.created_at, tz)
            if refund_day not in sums:
                continue
            row = sums[refund_day]
            for rli in refund.refund_line_items:
                row["returns"] += rli.subtotal
                row["taxes"] -= rli.total_tax
            for rsl in refund.refund_shipping_lines:
                row["shipping"] -= rsl.subtotal
                row["taxes"] -= rsl.tax
            row["duties"] -= sum((d.amount for d in refund.duties), ZERO)
    return [_row(d, shop.currency, counts[d], sums[d]) for d in days]


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
