"""An order's fate: when it gets paid, fulfilled, edited, refunded, cancelled, closed or deleted.

Drawn once per order from its own key, independently of the sandbox clock; the clock only decides
which of these moments are already visible (time <= world.now()). Every moment lies within
`MAX_MUTATION_DELAY` of the order's creation, which is what lets `updated_at_min` queries, the
deletion feed and the oracle look at a bounded window of days instead of the whole history.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Literal

from sandbox.shopify import shapes as shape_plans
from sandbox.shopify.days import Stub
from sandbox.shopify.model import CancelReason

MAX_MUTATION_DELAY = timedelta(days=46)
MAX_IMPORT_BACKDATE = timedelta(days=31)  # imported orders: processed_at before created_at

Payment = Literal["sale", "auth", "manual"]
_CANCEL_REASONS: tuple[CancelReason, ...] = ("CUSTOMER", "CUSTOMER", "INVENTORY", "FRAUD",
                                             "DECLINED", "OTHER")  # fmt: skip
_SOURCES = ("web",) * 17 + ("pos", "iphone", "shopify_draft_order")


@dataclass(frozen=True, slots=True)
class Fate:
    test: bool
    processed_at: datetime
    source_name: str
    payment: Payment
    gateway: str
    failed_attempt: bool  # a declined card before the successful sale
    paid_at: datetime | None  # sale: at checkout; auth: capture; manual: marked paid; None: never
    fulfilled_at: datetime | None
    closed_at: datetime | None
    edit_at: datetime | None
    cancel_at: datetime | None
    cancel_reason: CancelReason | None
    refund_ats: tuple[datetime, ...]
    deleted_at: datetime | None
    foreign_presentment: bool
    shapes: shape_plans.ShapePlan = shape_plans.NO_SHAPES  # the shop's extra shapes (shapes.py)

    def moments(self) -> tuple[datetime | None, ...]:
        """Every time something about the order changes (None: never)."""
        paid = self.paid_at if self.payment != "sale" else None
        return (paid, self.fulfilled_at, self.closed_at, self.edit_at, self.cancel_at,
                *self.refund_ats, *self.shapes.moments())  # fmt: skip

    def updated_at(self, created_at: datetime, now: datetime) -> datetime:
        """Creation or the latest visible change; a visible deletion counts as a change too."""
        latest = created_at
        for moment in (*self.moments(), self.deleted_at):
            if moment is not None and latest < moment <= now:
                latest = moment
        return latest

    def deleted(self, now: datetime) -> bool:
        return self.deleted_at is not None and self.deleted_at <= now


def _after(rng: random.Random, start: datetime, lo_hours: float, hi_hours: float) -> datetime:
    return start + timedelta(seconds=int(rng.uniform(lo_hours, hi_hours) * 3600))


def fate_for(seed: int, shop_id: str, stub: Stub, shapes: frozenset[str] = frozenset()) -> Fate:
    """The order's fate; `shapes` (ShopProfile.sales_shapes) adds the shop's extra shapes."""
    fate = _fate(seed, shop_id, stub)
    if not shapes:
        return fate
    extra = shape_plans.plan(seed, shop_id, stub.order_id, stub.created_at, fate, shapes)
    return replace(fate, shapes=extra)


def _fate(seed: int, shop_id: str, stub: Stub) -> Fate:
    rng = random.Random(f"{seed}:{shop_id}:fate:{stub.order_id}")
    created = stub.created_at
    test = rng.random() < 0.015
    imported = not test and rng.random() < 0.01
    processed = (
        created - timedelta(seconds=rng.randrange(86_400, 30 * 86_400)) if imported else created
    )
    source = "3890849" if imported else rng.choice(_SOURCES)  # an importer app's id, like Shopify

    roll = rng.random()
    payment: Payment = "sale" if roll < 0.84 or imported else ("auth" if roll < 0.94 else "manual")
    gateway = {
        "sale": "paypal" if rng.random() < 0.15 else "shopify_payments",
        "auth": "shopify_payments",
        "manual": "manual",
    }[payment]
    if test:
        gateway = "bogus"
    failed_attempt = payment == "sale" and rng.random() < 0.03
    paid_at: datetime | None = created
    if payment == "auth":
        paid_at = _after(rng, created, 1, 72) if rng.random() < 0.85 else None
    elif payment == "manual":
        paid_at = _after(rng, created, 1, 240) if rng.random() < 0.75 else None

    cancel_at: datetime | None = None
    reason: CancelReason | None = None
    if rng.random() < 0.03:
        cancel_at = _after(rng, created, 0.2, 48)
        reason = rng.choice(_CANCEL_REASONS)
        if paid_at is not None and paid_at > cancel_at:
            paid_at = None  # cancelled before the capture / before being marked paid

    fulfilled_at = None if cancel_at is not None else _after(rng, created, 4, 120)
    if fulfilled_at is not None and rng.random() < 0.02:
        fulfilled_at = None  # stuck in the warehouse
    closed_at = cancel_at
    if fulfilled_at is not None and paid_at is not None and rng.random() < 0.6:
        closed_at = max(fulfilled_at, paid_at) + timedelta(days=1)

    edit_at = _after(rng, created, 1, 480) if rng.random() < 0.08 else None

    refund_ats: tuple[datetime, ...] = ()
    if cancel_at is None and paid_at is not None and rng.random() < 0.11:
        count = 1 if rng.random() < 0.75 else 2
        # Refunds land on later days (1-45 days on), never before the money arrived.
        times = [max(_after(rng, created, 24, 45 * 24), paid_at + timedelta(hours=1))
                 for _ in range(count)]  # fmt: skip
        refund_ats = tuple(sorted(times))

    deleted_at = None
    if cancel_at is not None and rng.random() < 0.25:
        deleted_at = _after(rng, cancel_at, 1, 240)
    elif test and rng.random() < 0.3:
        deleted_at = _after(rng, created, 1, 240)

    return Fate(
        test=test,
        processed_at=processed,
        source_name=source,
        payment=payment,
        gateway=gateway,
        failed_attempt=failed_attempt,
        paid_at=paid_at,
        fulfilled_at=fulfilled_at,
        closed_at=closed_at,
        edit_at=edit_at,
        cancel_at=cancel_at,
        cancel_reason=reason,
        refund_ats=refund_ats,
        deleted_at=deleted_at,
        foreign_presentment=not test and rng.random() < 0.04,
    )
