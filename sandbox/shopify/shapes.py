"""Order shapes real shops have and the default sandbox does not: opt-in per shop.

`ShopProfile.sales_shapes` names the shapes a shop's orders may take (`ALL`, or any subset; the
default is none, so default worlds are byte-for-byte unchanged). Every draw comes from its own key
(`{seed}:{shop}:shapes:{order}`), never from an order's main random stream, and every number is
drawn whether or not its shape is enabled, so enabling one shape never moves another's orders.
What each shape does to an order, and how Shopify's sales report books it, is in
docs/shopify-sales-report.md; the oracle (oracle.py) books it from these same objects.

- tax_included: prices contain their tax (Order.taxesIncluded true, TaxLine = price·r/(1+R)).
- gift_cards: a gift card line (LineItem.isGiftCard) on some orders: never a sale.
- edits: an edit on a later day adds a line or removes a unit (current* fields and an
  OrderEditAgreement; no refund), booked on the edit's day. A few edits that add are big (a
  wholesale re-order: `BIG_EDIT_LINES` lines in one edit, more sales than one page of
  `OrderEditAgreement.sales` holds in the connector's query).
- adjustments: goodwill refunds (no refund line) and refunds whose money sits on no refund line
  (Refund.orderAdjustments).
- shipping_refunds: refunds of shipping only.
- returns: Shopify Returns with a restocking fee, some exchanged for another item (Order.returns,
  a ReturnAgreement, the exchange item as a new LineItem).
- tips: Order.totalTipReceivedSet (never a sale).
- duty_taxes: tax lines on duties and additional fees.
- fee_refunds: the refund that returns an order's last units gives its additional fees back
  too (and cancelled cross-border orders are charged fees), with a RefundAgreement whose
  AdditionalFeeSale (RETURN) dates it, and currentTotalAdditionalFeesSet below the original.
- cancel_after_refund: a partial refund, then the cancellation returns the rest.
- pending_null: pending orders have displayFinancialStatus null.
- foreign_money: an order whose shop money is in another currency (flagged, never summed).
"""

from __future__ import annotations

import random
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from decimal import Decimal
from typing import TYPE_CHECKING, Literal

from sandbox.world import ShopProfile, World

if TYPE_CHECKING:
    from sandbox.shopify.mutations import Fate

ALL = frozenset({
    "tax_included", "gift_cards", "edits", "adjustments", "shipping_refunds", "returns", "tips",
    "duty_taxes", "cancel_after_refund", "pending_null", "foreign_money", "fee_refunds",
})  # fmt: skip
TAX_INCLUSIVE_CURRENCIES = ("EUR", "AUD", "GBP", "NZD")

Event = Literal["goodwill", "shipping_refund", "return", "exchange"]
EditChange = Literal["add", "remove"]

# Per-order rates (of the orders a shape can apply to), in the range public reports give for
# small shops: a few percent of orders carry each shape.
_GIFT_CARD = 0.03
_TIP = 0.06
_EDIT_CHANGE = 0.6  # of orders edited at all (mutations.py edits ~8% of orders)
_BIG_EDIT = 0.05  # of edits that add: several lines at once
BIG_EDIT_LINES = 7
_EVENTS: tuple[tuple[Event, str, float], ...] = (
    ("goodwill", "adjustments", 0.015),
    ("shipping_refund", "shipping_refunds", 0.015),
    ("return", "returns", 0.02),
    ("exchange", "returns", 0.02),
)
_OUTSIDE_LINES = 0.25  # of partial refunds: money put on an order adjustment instead of the line
_PARTIAL_BEFORE_CANCEL = 0.5  # of paid cancelled orders
_FOREIGN_MONEY = 0.01


@dataclass(frozen=True, slots=True)
class ShapePlan:
    """What the shop's shapes do to one order (None / False: nothing)."""

    gift_card: int | None = None  # index of the gift card denomination
    tip_percent: Decimal | None = None
    edit_change: EditChange | None = None
    event: Event | None = None
    event_at: datetime | None = None
    restocking_percent: Decimal = Decimal(0)
    outside_lines: bool = False
    partial_at: datetime | None = None  # a partial refund before the cancellation
    foreign_money: bool = False
    pick: float = 0.0  # which line an edit, return or outside-lines refund takes
    edit_lines: int = 1  # lines an "add" edit adds
    fee_refund: bool = False  # the full refund gives the additional fees back

    def moments(self) -> tuple[datetime | None, ...]:
        return self.event_at, self.partial_at


NO_SHAPES = ShapePlan()


def plan(
    seed: int, shop_id: str, order_id: int, created: datetime, fate: Fate, shapes: frozenset[str]
) -> ShapePlan:
    rng = random.Random(f"{seed}:{shop_id}:shapes:{order_id}")
    gift, denomination, tip, tip_pick, edit, add_or_remove = (rng.random() for _ in range(6))
    event_roll, event_hours, fee_pick, outside, partial, foreign, pick = (
        rng.random() for _ in range(7)
    )
    big = rng.random()  # drawn last: the draws above keep their values
    plain_sale = fate.payment == "sale" and not fate.test and fate.cancel_at is None
    untouched = plain_sale and not fate.refund_ats
    edit_change: EditChange | None = None
    if "edits" in shapes and untouched and fate.edit_at is not None and edit < _EDIT_CHANGE:
        # Shopify removes only unfulfilled units; fulfilment is not modelled per unit here, so a
        # removal may follow the order's fulfilment date (read: a unit still unfulfilled).
        edit_change = "remove" if add_or_remove < 0.5 else "add"
    event: Event | None = None
    event_at: datetime | None = None
    if untouched and edit_change is None:
        threshold = 0.0
        for name, shape, rate in _EVENTS:
            if shape not in shapes:
                continue
            threshold += rate
            if event_roll < threshold:
                event = name
                break
        if event in ("return", "exchange") and fate.fulfilled_at is None:
            event = None
        if event in ("goodwill", "shipping_refund"):
            event_at = created + timedelta(hours=24 + event_hours * 19 * 24)
        elif event is not None and fate.fulfilled_at is not None:
            event_at = fate.fulfilled_at + timedelta(hours=48 + event_hours * 13 * 24)
    fees = (Decimal(10), Decimal(15)) if event == "return" else (Decimal(0), Decimal(10))
    partial_at = None
    if (
        "cancel_after_refund" in shapes
        and fate.cancel_at is not None
        and fate.payment == "sale"
        and partial < _PARTIAL_BEFORE_CANCEL
    ):
        partial_at = created + (fate.cancel_at - created) / 2
    return ShapePlan(
        gift_card=int(denomination * 3) if "gift_cards" in shapes and gift < _GIFT_CARD else None,
        tip_percent=(
            Decimal((5, 10, 15)[int(tip_pick * 3)])
            if "tips" in shapes and tip < _TIP and fate.source_name in ("web", "pos")
            else None
        ),
        edit_change=edit_change,
        event=event,
        event_at=event_at,
        restocking_percent=fees[int(fee_pick * 2)] if event in ("return", "exchange") else fees[0],
        outside_lines="adjustments" in shapes and outside < _OUTSIDE_LINES,
        partial_at=partial_at,
        foreign_money=(
            "foreign_money" in shapes
            and foreign < _FOREIGN_MONEY
            and not fate.foreign_presentment
            and not fate.test
        ),
        pick=pick,
        edit_lines=BIG_EDIT_LINES if edit_change == "add" and big < _BIG_EDIT else 1,
        fee_refund="fee_refunds" in shapes,
    )


def with_shapes(shop: ShopProfile, shapes: frozenset[str] = ALL) -> ShopProfile:
    """The shop with `shapes`; prices include tax only where that is the norm (EUR, AUD, …)."""
    if shop.currency not in TAX_INCLUSIVE_CURRENCIES:
        shapes = shapes - {"tax_included"}
    return replace(shop, sales_shapes=frozenset(shapes))


def realistic_world(
    *, seed: int = 7, size: str = "tiny", anchor: datetime | None = None,
    shapes: frozenset[str] = ALL,
) -> World:  # fmt: skip
    """The default shops (same handles) with every realistic shape: opt in, never the default."""
    world = World.build(seed=seed, size=size, anchor=anchor)
    world.shops = {sid: with_shapes(shop, shapes) for sid, shop in world.shops.items()}
    return world
