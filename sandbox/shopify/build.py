"""Turn an order's stub and fate into the `Order` snapshot the sandbox clock allows us to see.

The content (lines, discounts, shipping, refund plans) is drawn from the order's own key and never
depends on the clock, so an order looks the same at every clock setting except for the moments
(`Fate`) that are not visible yet. Money is computed the way Shopify does: per-line rounding, an
order-level code allocated across lines so the allocations add up to the code's total exactly,
taxes on discounted prices, refunds in cumulative steps so refunding every unit returns exactly
the line's discounted total and tax, never a cent more.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta
from decimal import Decimal

from sandbox.shopify import duties, refunds, shaping
from sandbox.shopify.catalog import Catalog, Code, ShippingRate, Variant, catalog_for, identity
from sandbox.shopify.days import Stub, order_name
from sandbox.shopify.journey import journey_for
from sandbox.shopify.model import (
    ZERO,
    DiscountAllocation,
    DiscountApplication,
    FinancialStatus,
    LineItem,
    Order,
    ShippingLine,
    TaxLine,
    Transaction,
    TransactionKind,
    TransactionStatus,
    money,
)
from sandbox.shopify.mutations import Fate
from sandbox.world import ShopProfile

_LINE_COUNTS = (1, 2, 3, 4, 5)
_LINE_WEIGHTS = (50, 25, 13, 7, 5)
_NOTES = ("Please gift wrap", "Leave at the back door", "Call before delivery", "Birthday present")


def allocate(total: Decimal, weights: Sequence[Decimal]) -> list[Decimal]:
    """Split `total` over `weights` in whole cents, largest remainders first, summing exactly."""
    cents = int(total.scaleb(2))
    weight_sum = sum(weights, ZERO)
    if weight_sum <= 0:
        return [ZERO for _ in weights]
    raw = [Decimal(cents) * w / weight_sum for w in weights]
    shares = [int(r) for r in raw]
    by_remainder = sorted(range(len(raw)), key=lambda i: (shares[i] - raw[i], i))
    for i in by_remainder[: cents - sum(shares)]:
        shares[i] += 1
    return [Decimal(s).scaleb(-2) for s in shares]


@dataclass
class _Draft:
    """Lines being priced: variant, quantity and each discount application's allocation."""

    variant: Variant
    quantity: int
    original: Decimal
    allocations: list[DiscountAllocation]

    @property
    def discounted(self) -> Decimal:
        return self.original - sum((a.amount for a in self.allocations), ZERO)


def _alloc(amount: Decimal, app: DiscountApplication) -> DiscountAllocation:
    return DiscountAllocation(
        amount, app.index, app.allocation_method, app.target_type, app.value_type, app.code
    )


def _price_lines(
    rng: random.Random, cat: Catalog, drafts: list[_Draft], code: Code | None, roll: float
) -> tuple[list[DiscountApplication], ShippingRate | None, Code | None]:
    """Apply the automatic sale, then the code (falling back when free shipping is moot)."""
    apps: list[DiscountApplication] = []
    entitled = [d for d in drafts if d.variant.on_sale]
    if entitled and rng.random() < 0.6:
        auto = DiscountApplication(
            len(apps), "AUTOMATIC", None, cat.automatic_title, "PERCENTAGE",
            cat.automatic_percent, "ACROSS", "ENTITLED", "LINE_ITEM",
        )  # fmt: skip
        apps.append(auto)
        for d in entitled:
            d.allocations.append(_alloc(money(d.original * cat.automatic_percent / 100), auto))
    if code is not None and code.shipping:
        rate = _shipping(roll, cat, drafts)
        if rate is None or rate.price == 0:
            code = cat.codes[0]
    if code is not None and not code.shipping:
        app = DiscountApplication(
            len(apps), "DISCOUNT_CODE", code.code, code.code, code.value_type, code.value,
            "ACROSS", "ALL", "LINE_ITEM",
        )  # fmt: skip
        apps.append(app)
        bases = [d.discounted for d in drafts]
        base_sum = sum(bases, ZERO)
        if code.value_type == "PERCENTAGE":
            total = money(base_sum * code.value / 100)
        else:
            total = min(code.value, base_sum)
        for d, share in zip(drafts, allocate(total, bases), strict=True):
            if share > 0:
                d.allocations.append(_alloc(share, app))
    return apps, _shipping(roll, cat, drafts), code


def _shipping(roll: float, cat: Catalog, drafts: list[_Draft]) -> ShippingRate | None:
    if not any(d.variant.requires_shipping for d in drafts):
        return None
    standard, express = cat.shipping_rates
    if roll < 0.15:
        return express
    if sum((d.discounted for d in drafts), ZERO) >= cat.free_shipping_over:
        return ShippingRate("Free Shipping", "free", ZERO)
    return standard


def _taxes(cat: Catalog, amount: Decimal, included: bool = False) -> tuple[TaxLine, ...]:
    return shaping.taxes(cat, amount, included)


def build_order(
    seed: int,
    shop: ShopProfile,
    start: date,
    stub: Stub,
    fate: Fate,
    now: datetime,
    *,
    include_deleted: bool = False,
) -> Order:
    cat = catalog_for(seed, shop.shop_id, shop.currency)
    oid = stub.order_id
    included = "tax_included" in shop.sales_shapes
    plan = fate.shapes
    rng = random.Random(f"{seed}:{shop.shop_id}:order:{oid}")

    count = rng.choices(_LINE_COUNTS, _LINE_WEIGHTS)[0]
    drafts = []
    for variant in rng.sample(cat.variants, count):
        quantity = rng.choices((1, 2, 3), (80, 15, 5))[0]
        drafts.append(_Draft(variant, quantity, money(variant.price * quantity), []))
    code = rng.choices(cat.codes, (3, 2, 1, 2, 2))[0] if rng.random() < 0.3 else None
    apps, rate, code = _price_lines(rng, cat, drafts, code, rng.random())

    lines = tuple(
        LineItem(
            id=oid * 100 + k,
            title=d.variant.title,
            variant_title=d.variant.variant_title,
            variant_id=d.variant.variant_id,
            product_id=d.variant.product_id,
            sku=d.variant.sku,
            vendor=d.variant.vendor,
            quantity=d.quantity,
            current_quantity=d.quantity,  # refunds.apply lowers it
            original_unit_price=d.variant.price,
            discount_allocations=tuple(d.allocations),
            tax_lines=_taxes(cat, d.discounted, included) if d.variant.taxable else (),
            taxable=d.variant.taxable,
            requires_shipping=d.variant.requires_shipping,
        )
        for k, d in enumerate(drafts)
    )
    shipping: tuple[ShippingLine, ...] = ()
    if rate is not None:
        ship_allocs: tuple[DiscountAllocation, ...] = ()
        if code is not None and code.shipping:
            app = DiscountApplication(
                len(apps), "DISCOUNT_CODE", code.code, code.code, "PERCENTAGE", code.value,
                "EACH", "ALL", "SHIPPING_LINE",
            )  # fmt: skip
            apps.append(app)
            ship_allocs = (_alloc(rate.price, app),)
        discounted = rate.price - sum((a.amount for a in ship_allocs), ZERO)
        taxes = _taxes(cat, discounted, included) if cat.shipping_taxed and discounted > 0 else ()
        shipping = (
            ShippingLine(oid * 100 + 20, rate.title, rate.code, "shopify", rate.price,
                         ship_allocs, taxes),
        )  # fmt: skip

    person = identity(seed, shop.shop_id, str(stub.customer_id or f"guest:{oid}"))
    tags: tuple[str, ...] = ("subscription",) if rng.random() < 0.08 else ()
    edited_tag, edited_note = rng.choice(("gift", "vip", "priority")), rng.choice(_NOTES)
    email_changed = rng.random() < 0.3
    email, note = person.email, None
    if fate.edit_at is not None and fate.edit_at <= now:
        tags, note = (*tags, edited_tag), edited_note
        email = email.replace("@", "+orders@") if email_changed else email

    journey = journey_for(rng, oid, stub, fate)
    if plan.gift_card is not None:
        lines = (*lines, shaping.gift_card(shop.shop_id, cat, oid, len(lines), plan.gift_card))
    duty_tax = cat.taxes[0] if "duty_taxes" in shop.sales_shapes else None
    lines, fees = duties.for_order(
        seed, shop.shop_id, oid, lines,
        cross_border=fate.foreign_presentment,
        cancelled=fate.cancel_at is not None and not plan.fee_refund, tax=duty_tax,
    )  # fmt: skip
    tax_on_top = not included
    total = sum((li.discounted_total + li.total_tax * tax_on_top for li in lines), ZERO) + sum(
        (s.discounted_price + s.total_tax * tax_on_top for s in shipping), ZERO
    )
    total += sum((d.price + sum((t.price for t in d.tax_lines), ZERO)
                  for li in lines for d in li.duties), ZERO)  # fmt: skip
    total += sum((f.price + sum((t.price for t in f.tax_lines), ZERO) for f in fees), ZERO)
    tip = ZERO
    if plan.tip_percent is not None:
        tip = money(sum((li.discounted_total for li in lines), ZERO) * plan.tip_percent / 100)
    payments = _payments(oid, stub.created_at, fate, total + tip, now)
    lines, refund_list, refund_txns = refunds.apply(
        rng, oid, fate, lines, shipping, payments, now, taxes_included=included,
        fees=fees if plan.fee_refund else (),
    )  # fmt: skip
    shaped = shaping.edit(oid, fate, lines, cat, included, now, fate.gateway)
    if plan.event is not None:
        paid = [t for t in payments if t.kind == "SALE" and t.status == "SUCCESS"]
        more = shaping.event(oid, plan.event, fate, shaped.lines, shipping, cat, included, now,
                             fate.gateway, paid[-1].id if paid else None)  # fmt: skip
        shaped.lines = more.lines
        for name in ("refunds", "transactions", "agreements", "returns"):
            getattr(shaped, name).extend(getattr(more, name))
    lines = shaped.lines
    refund_list = tuple(sorted((*refund_list, *shaped.refunds), key=lambda r: (r.created_at, r.id)))
    transactions = tuple(sorted((*payments, *refund_txns, *shaped.transactions),
                                key=lambda t: (t.created_at, t.id)))  # fmt: skip
    cancelled = fate.cancel_at if fate.cancel_at is not None and fate.cancel_at <= now else None
    foreign = fate.foreign_presentment
    name = order_name(shop, oid)
    status: FinancialStatus | None = _financial_status(transactions, cancelled is not None)
    if status == "PENDING" and "pending_null" in shop.sales_shapes:
        status = None  # what the Admin API returns for pending orders (live captures)
    currency = cat.presentment[0] if plan.foreign_money else shop.currency
    return Order(
        id=oid,
        name=name,
        created_at=stub.created_at,
        processed_at=fate.processed_at,
        updated_at=fate.updated_at(stub.created_at, now),
        cancelled_at=cancelled,
        cancel_reason=fate.cancel_reason if cancelled else None,
        closed_at=fate.closed_at if fate.closed_at is not None and fate.closed_at <= now else None,
        test=fate.test,
        email=email,
        customer_id=stub.customer_id,
        currency_code=currency,
        presentment_currency_code=cat.presentment[0] if foreign else currency,
        presentment_rate=cat.presentment[1] if foreign else Decimal(1),
        taxes_included=included,
        source_name=fate.source_name,
        tags=tags,
        note=note,
        display_financial_status=status,
        display_fulfillment_status=(
            "FULFILLED"
            if fate.fulfilled_at is not None and fate.fulfilled_at <= now
            else "UNFULFILLED"
        ),
        discount_codes=(code.code,) if code is not None else (),
        discount_applications=tuple(apps),
        line_items=lines,
        shipping_lines=shipping,
        transactions=transactions,
        refunds=refund_list,
        customer_journey=journey,
        deleted_at=fate.deleted_at if include_deleted and fate.deleted(now) else None,
        additional_fees=fees,
        tip=tip,
        agreements=(*shaped.agreements, *shaping.fee_refunds(oid, refund_list, lines, included)),
        returns=tuple(replace(r, name=f"{name}-{r.name}") for r in shaped.returns),
    )


def _payments(
    oid: int, created: datetime, fate: Fate, total: Decimal, now: datetime
) -> list[Transaction]:
    """Checkout and capture transactions (a cancelled authorization is voided here too).

    Imported orders keep the original payment time as processed_at, like an import app sets it.
    """
    txns: list[Transaction] = []

    def add(kind: TransactionKind, status: TransactionStatus, at: datetime,
            parent: int | None = None, error: str | None = None) -> int:  # fmt: skip
        tid = oid * 100 + 40 + len(txns)
        processed = min(at, fate.processed_at) if at <= created else at
        txns.append(Transaction(tid, kind, status, fate.gateway, total, at, processed, parent,
                                fate.test, error))  # fmt: skip
        return tid

    if fate.failed_attempt:
        add("SALE", "FAILURE", created - timedelta(seconds=90), error="CARD_DECLINED")
    if fate.payment == "sale":
        add("SALE", "SUCCESS", created)
    elif fate.payment == "auth":
        auth = add("AUTHORIZATION", "SUCCESS", created)
        if fate.paid_at is not None and fate.paid_at <= now:
            add("CAPTURE", "SUCCESS", fate.paid_at, auth)
        elif fate.cancel_at is not None and fate.cancel_at <= now:
            add("VOID", "SUCCESS", fate.cancel_at, auth)
    else:
        add("SALE", "PENDING", created)
        if fate.paid_at is not None and fate.paid_at <= now:
            add("SALE", "SUCCESS", fate.paid_at)
    return txns


def _financial_status(txns: Sequence[Transaction], cancelled: bool) -> FinancialStatus:
    ok = [t for t in txns if t.status == "SUCCESS"]
    received = sum((t.amount for t in ok if t.kind in ("SALE", "CAPTURE")), ZERO)
    refunded = sum((t.amount for t in ok if t.kind == "REFUND"), ZERO)
    if not any(t.kind in ("SALE", "CAPTURE") for t in ok):  # a 0.00 sale is still paid
        if cancelled or any(t.kind == "VOID" for t in ok):
            return "VOIDED"
        return "AUTHORIZED" if any(t.kind == "AUTHORIZATION" for t in ok) else "PENDING"
    if refunded == 0:
        return "PAID"
    return "REFUNDED" if refunded >= received else "PARTIALLY_REFUNDED"
