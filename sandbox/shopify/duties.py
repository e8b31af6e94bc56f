"""Duties and additional fees of cross-border orders (those presented in a foreign currency).

Drawn from their own key (`{seed}:{shop}:duties:{order}`), never from the order's main random
stream, so adding them left every other field of every order unchanged. A deterministic share
of cross-border orders pays an import duty on each shippable line (a rate on the line's
discounted total) and some also an import handling fee. Duties are given back with the refund
that returns an order's last units (a full refund or a cancellation). Fees go back with them
only in shops with the "fee_refunds" shape (refunds.py); elsewhere they are never refunded, so
they are only charged on orders that are never cancelled (a cancellation returns everything).
"""

from __future__ import annotations

import random
from dataclasses import replace
from decimal import Decimal

from sandbox.shopify.model import AdditionalFee, Duty, LineItem, TaxLine, money

DUTY_SHARE = 0.8  # of cross-border orders
FEE_SHARE = 0.5  # of cross-border orders
_RATES = (Decimal("0.04"), Decimal("0.065"), Decimal("0.08"), Decimal("0.12"))
_HS_CODES = ("630140", "691200", "340600", "650500", "482010", "711711", "060290", "691490")
_ORIGINS = ("PT", "CN", "DE", "IN", "US")
_FEE = Decimal("4.95")


def for_order(
    seed: int,
    shop_id: str,
    order_id: int,
    lines: tuple[LineItem, ...],
    *,
    cross_border: bool,
    cancelled: bool,
    tax: tuple[str, Decimal] | None = None,
) -> tuple[tuple[LineItem, ...], tuple[AdditionalFee, ...]]:
    """The lines with their duties and the order's additional fees (none for domestic orders).

    `tax` ("duty_taxes" shape): the (title, rate) charged on top of each duty and fee.
    """

    def taxed(amount: Decimal) -> tuple[TaxLine, ...]:
        return (TaxLine(tax[0], tax[1], money(amount * tax[1])),) if tax is not None else ()

    if not cross_border:
        return lines, ()
    rng = random.Random(f"{seed}:{shop_id}:duties:{order_id}")
    with_duties, rate, with_fee = rng.random() < DUTY_SHARE, rng.choice(_RATES), rng.random()
    out = []
    for k, li in enumerate(lines):
        amount = money(li.discounted_total * rate)
        if with_duties and li.requires_shipping and amount > 0:
            duty = Duty(order_id * 100 + 30 + k, rng.choice(_HS_CODES), rng.choice(_ORIGINS),
                        amount, taxed(amount))  # fmt: skip
            li = replace(li, duties=(duty,))
        out.append(li)
    fees = (AdditionalFee(order_id * 100 + 35, "Import handling fee", _FEE, taxed(_FEE)),)
    return tuple(out), fees if with_fee < FEE_SHARE and not cancelled else ()
