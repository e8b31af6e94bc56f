"""The Shopify sandbox's objects: the contract between the data generator and the GraphQL layer.

Plain frozen dataclasses whose snake_case field names mirror the GraphQL Admin API 2026-01 names
(the protocol layer maps `original_unit_price` → `originalUnitPriceSet`, …). Every object is a
snapshot *as of the sandbox clock*: refunds, edits and cancellations later than `world.now()` are
simply absent. Money is `Decimal` in the shop currency (shopMoney), already rounded to the minor
unit; presentment money is `Order.presentment(amount)`. Ids are plain ints; the protocol layer
renders `gid://shopify/<Type>/<id>`. Sequences are tuples so snapshots stay immutable.

`taxes_included` is False unless the shop has the "tax_included" shape (shapes.py): then line and
shipping prices contain their tax and `total_price = subtotal + shipping` (tax not added again).
Everything else a shape adds (gift cards, edits, returns, order adjustments, tips, …) defaults to
empty here, so orders of shops without shapes are exactly what they were.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import ROUND_HALF_EVEN, Decimal
from typing import Literal

CENT = Decimal("0.01")
ZERO = Decimal("0.00")

AllocationMethod = Literal["ACROSS", "EACH", "ONE"]
TargetType = Literal["LINE_ITEM", "SHIPPING_LINE"]
TargetSelection = Literal["ALL", "ENTITLED", "EXPLICIT"]
ValueType = Literal["PERCENTAGE", "FIXED_AMOUNT"]
ApplicationType = Literal["DISCOUNT_CODE", "AUTOMATIC", "MANUAL"]
TransactionKind = Literal["SALE", "AUTHORIZATION", "CAPTURE", "REFUND", "VOID"]
TransactionStatus = Literal["SUCCESS", "PENDING", "FAILURE"]
RestockType = Literal["RETURN", "CANCEL", "NO_RESTOCK"]
FinancialStatus = Literal[
    "PENDING", "AUTHORIZED", "PAID", "PARTIALLY_REFUNDED", "REFUNDED", "VOIDED"
]
SaleActionType = Literal["ORDER", "RETURN"]
AgreementReason = Literal["ORDER_EDIT", "RETURN", "REFUND"]
FulfillmentStatus = Literal["UNFULFILLED", "PARTIALLY_FULFILLED", "FULFILLED"]
CancelReason = Literal["CUSTOMER", "DECLINED", "FRAUD", "INVENTORY", "STAFF", "OTHER"]
CustomerState = Literal["DISABLED", "INVITED", "ENABLED", "DECLINED"]


def money(value: Decimal) -> Decimal:
    """Round to the currency's minor unit (USD/EUR/AUD: cents), banker's rounding like Shopify."""
    return value.quantize(CENT, rounding=ROUND_HALF_EVEN)


@dataclass(frozen=True)
class DiscountApplication:
    """Order.discountApplications[index]: what the discount was; allocations say where it went."""

    index: int
    type: ApplicationType  # → DiscountCodeApplication / AutomaticDiscountApplication / Manual…
    code: str | None  # DISCOUNT_CODE only
    title: str  # automatic/manual title; the code again for codes
    value_type: ValueType
    value: Decimal  # percentage (e.g. 15.0) or a fixed amount in shop money
    allocation_method: AllocationMethod
    target_selection: TargetSelection
    target_type: TargetType


@dataclass(frozen=True)
class DiscountAllocation:
    """One discount application's share of one line or shipping line (order-level codes too)."""

    amount: Decimal
    discount_application_index: int
    allocation_method: AllocationMethod
    target_type: TargetType
    value_type: ValueType
    code: str | None


@dataclass(frozen=True)
class TaxLine:
    title: str
    rate: Decimal  # 0.0725 — ratePercentage is rate * 100
    price: Decimal


@dataclass(frozen=True)
class Duty:
    """An import duty on one line item of a cross-border order (LineItem.duties)."""

    id: int
    harmonized_system_code: str
    country_code_of_origin: str
    price: Decimal
    tax_lines: tuple[TaxLine, ...] = ()  # tax charged on the duty ("duty_taxes" shape)


@dataclass(frozen=True)
class AdditionalFee:
    """Order.additionalFees: an import/handling fee beyond duties, taxes and shipping."""

    id: int
    name: str
    price: Decimal
    tax_lines: tuple[TaxLine, ...] = ()  # tax charged on the fee ("duty_taxes" shape)


@dataclass(frozen=True)
class RefundDuty:
    """Refund.duties: a duty given back (always in full here, with the last returned units)."""

    duty_id: int
    amount: Decimal


@dataclass(frozen=True)
class LineItem:
    id: int
    title: str  # product title
    variant_title: str | None
    variant_id: int
    product_id: int
    sku: str
    vendor: str
    quantity: int
    current_quantity: int  # quantity minus refunded/removed units as of now
    original_unit_price: Decimal
    discount_allocations: tuple[DiscountAllocation, ...]
    tax_lines: tuple[TaxLine, ...]
    taxable: bool
    requires_shipping: bool
    duties: tuple[Duty, ...] = ()
    is_gift_card: bool = False
    added_at: datetime | None = None  # added by an order edit or as an exchange item
    removed_quantity: int = 0  # units an order edit took off (current_quantity already lower)

    @property
    def name(self) -> str:
        return f"{self.title} - {self.variant_title}" if self.variant_title else self.title

    @property
    def refundable_quantity(self) -> int:
        return self.current_quantity

    @property
    def original_total(self) -> Decimal:
        return money(self.original_unit_price * self.quantity)

    @property
    def total_discount(self) -> Decimal:
        return sum((a.amount for a in self.discount_allocations), ZERO)

    @property
    def discounted_total(self) -> Decimal:
        return self.original_total - self.total_discount

    @property
    def discounted_unit_price(self) -> Decimal:
        return money(self.discounted_total / self.quantity)

    @property
    def total_tax(self) -> Decimal:
        return sum((t.price for t in self.tax_lines), ZERO)

    @property
    def removed_subtotal(self) -> Decimal:
        """The discounted value of the units an edit removed (tax included when prices are)."""
        return money(self.discounted_total * self.removed_quantity / self.quantity)

    @property
    def removed_tax(self) -> Decimal:
        return money(self.total_tax * self.removed_quantity / self.quantity)


@dataclass(frozen=True)
class ShippingLine:
    id: int
    title: str
    code: str
    source: str
    original_price: Decimal
    discount_allocations: tuple[DiscountAllocation, ...]
    tax_lines: tuple[TaxLine, ...]
    is_removed: bool = False

    @property
    def total_discount(self) -> Decimal:
        return sum((a.amount for a in self.discount_allocations), ZERO)

    @property
    def discounted_price(self) -> Decimal:
        return self.original_price - self.total_discount

    @property
    def total_tax(self) -> Decimal:
        return sum((t.price for t in self.tax_lines), ZERO)


@dataclass(frozen=True)
class Transaction:
    id: int
    kind: TransactionKind
    status: TransactionStatus
    gateway: str
    amount: Decimal
    created_at: datetime
    processed_at: datetime
    parent_id: int | None
    test: bool
    error_code: str | None = None  # e.g. CARD_DECLINED on FAILURE


@dataclass(frozen=True)
class RefundLineItem:
    id: int
    line_item_id: int
    quantity: int
    restock_type: RestockType
    price: Decimal  # the line's original unit price (RefundLineItem.priceSet)
    subtotal: Decimal  # the line's discounted total for these units (after every discount)
    total_tax: Decimal

    @property
    def restocked(self) -> bool:
        return self.restock_type != "NO_RESTOCK"


@dataclass(frozen=True)
class RefundShippingLine:
    id: int
    shipping_line_id: int
    subtotal: Decimal  # subtotalAmountSet: refunded shipping, after shipping discounts
    tax: Decimal  # taxAmountSet


@dataclass(frozen=True)
class OrderAdjustment:
    """Refund.orderAdjustments: refunded money on no refund line (goodwill, discrepancies).

    Negative amounts give money back, like the negative return subtotals Shopify reports.
    """

    id: int
    amount: Decimal  # before tax
    tax: Decimal
    reason: str = "REFUND_DISCREPANCY"


@dataclass(frozen=True)
class Refund:
    id: int
    created_at: datetime
    updated_at: datetime
    processed_at: datetime | None
    note: str | None
    refund_line_items: tuple[RefundLineItem, ...]
    refund_shipping_lines: tuple[RefundShippingLine, ...]
    transactions: tuple[Transaction, ...]  # the REFUND transactions (also in Order.transactions)
    duties: tuple[RefundDuty, ...] = ()
    order_adjustments: tuple[OrderAdjustment, ...] = ()
    duty_tax: Decimal = ZERO  # tax on the refunded duties (their Duty.taxLines), given back too
    fees: tuple[AdditionalFee, ...] = ()  # additional fees given back ("fee_refunds" shape)

    @property
    def fees_total(self) -> Decimal:
        return sum((f.price for f in self.fees), ZERO)

    @property
    def fee_tax(self) -> Decimal:
        return sum((t.price for f in self.fees for t in f.tax_lines), ZERO)

    @property
    def duties_total(self) -> Decimal:
        return sum((d.amount for d in self.duties), ZERO)

    @property
    def total_refunded(self) -> Decimal:
        """Money actually returned: zero for the refund record of a voided/unpaid cancellation."""
        return sum(
            (t.amount for t in self.transactions if t.kind == "REFUND" and t.status == "SUCCESS"),
            ZERO,
        )

    @property
    def line_items_subtotal(self) -> Decimal:
        return sum((r.subtotal for r in self.refund_line_items), ZERO)

    @property
    def shipping_subtotal(self) -> Decimal:
        return sum((s.subtotal for s in self.refund_shipping_lines), ZERO)

    @property
    def total_tax(self) -> Decimal:
        lines = sum((r.total_tax for r in self.refund_line_items), ZERO)
        shipping = sum((s.tax for s in self.refund_shipping_lines), ZERO)
        return lines + shipping + self.duty_tax + self.fee_tax


@dataclass(frozen=True)
class Sale:
    """A ProductSale of a sales agreement: units sold (ORDER) or taken back (RETURN, negative);
    or, with `fee` set, an AdditionalFeeSale (a fee charged or given back)."""

    id: int
    action_type: SaleActionType
    line_item_id: int | None
    quantity: int
    total_amount: Decimal  # after discounts and taxes
    total_discount: Decimal
    total_tax: Decimal
    fee: AdditionalFee | None = None


@dataclass(frozen=True)
class Agreement:
    """Order.agreements: an OrderEditAgreement or ReturnAgreement, dated by happenedAt."""

    id: int
    reason: AgreementReason
    happened_at: datetime
    sales: tuple[Sale, ...]
    return_id: int | None = None  # ReturnAgreement.return


@dataclass(frozen=True)
class Return:
    """Order.returns: one returned unit, maybe exchanged, maybe charged a restocking fee."""

    id: int
    name: str
    created_at: datetime
    line_item_id: int
    quantity: int
    restocking_fee_percentage: Decimal
    restocking_fee: Decimal
    exchange_line_item_id: int | None
    refund_id: int
    return_shipping_fee: Decimal = ZERO  # Return.returnShippingFees: kept by the merchant too

    @property
    def fees(self) -> Decimal:
        """What the merchant keeps on the return (restocking plus return shipping fees)."""
        return self.restocking_fee + self.return_shipping_fee


@dataclass(frozen=True)
class Visit:
    """CustomerVisit of Order.customerJourneySummary (first/last touch with UTM parameters)."""

    id: int
    occurred_at: datetime
    source: str
    source_type: str | None
    landing_page: str
    referrer_url: str | None
    utm_source: str | None
    utm_medium: str | None
    utm_campaign: str | None
    utm_content: str | None = None
    utm_term: str | None = None


@dataclass(frozen=True)
class CustomerJourney:
    customer_order_index: int
    days_to_conversion: int
    first_visit: Visit | None
    last_visit: Visit | None
    ready: bool = True


@dataclass(frozen=True)
class Order:
    id: int
    name: str
    created_at: datetime
    processed_at: datetime  # earlier than created_at for imported orders
    updated_at: datetime
    cancelled_at: datetime | None
    cancel_reason: CancelReason | None
    closed_at: datetime | None
    test: bool
    email: str | None
    customer_id: int | None
    currency_code: str
    presentment_currency_code: str
    presentment_rate: Decimal  # presentment = shop money * rate (1 when the currencies match)
    taxes_included: bool
    source_name: str
    tags: tuple[str, ...]
    note: str | None
    display_financial_status: FinancialStatus | None  # None: pending ("pending_null" shape)
    display_fulfillment_status: FulfillmentStatus
    discount_codes: tuple[str, ...]
    discount_applications: tuple[DiscountApplication, ...]
    line_items: tuple[LineItem, ...]
    shipping_lines: tuple[ShippingLine, ...]
    transactions: tuple[Transaction, ...]
    refunds: tuple[Refund, ...]
    customer_journey: CustomerJourney | None = None
    deleted_at: datetime | None = None  # only ever set with iter_orders(include_deleted=True)
    additional_fees: tuple[AdditionalFee, ...] = ()
    tip: Decimal = ZERO  # totalTipReceivedSet: never a sale
    agreements: tuple[Agreement, ...] = ()
    returns: tuple[Return, ...] = ()

    def presentment(self, amount: Decimal) -> Decimal:
        return amount if self.presentment_rate == 1 else money(amount * self.presentment_rate)

    @property
    def closed(self) -> bool:
        return self.closed_at is not None

    @property
    def discount_code(self) -> str | None:
        return self.discount_codes[0] if self.discount_codes else None

    @property
    def total_line_items_price(self) -> Decimal:
        return sum((li.original_total for li in self.line_items), ZERO)

    @property
    def subtotal(self) -> Decimal:
        """subtotalPriceSet: line items after every discount, before shipping and taxes."""
        return sum((li.discounted_total for li in self.line_items), ZERO)

    @property
    def total_discounts(self) -> Decimal:
        lines = sum((li.total_discount for li in self.line_items), ZERO)
        return lines + sum((s.total_discount for s in self.shipping_lines), ZERO)

    @property
    def total_shipping(self) -> Decimal:
        """totalShippingPriceSet after shipping discounts, so total = subtotal + shipping + tax."""
        return sum((s.discounted_price for s in self.shipping_lines), ZERO)

    @property
    def total_tax(self) -> Decimal:
        lines = sum((li.total_tax for li in self.line_items), ZERO)
        return lines + sum((s.total_tax for s in self.shipping_lines), ZERO) + self.charges_tax

    @property
    def charges_tax(self) -> Decimal:
        """Tax on duties and additional fees: always added on top (they are charged at checkout)."""
        duties = sum((t.price for li in self.line_items for d in li.duties for t in d.tax_lines),
                     ZERO)  # fmt: skip
        return duties + sum((t.price for f in self.additional_fees for t in f.tax_lines), ZERO)

    @property
    def added_tax(self) -> Decimal:
        """The tax a total adds on top of prices: all of it, or only the charges' when included."""
        return self.charges_tax if self.taxes_included else self.total_tax

    @property
    def total_duties(self) -> Decimal:
        """originalTotalDutiesSet: every line's duties as charged at checkout."""
        return sum((d.price for li in self.line_items for d in li.duties), ZERO)

    @property
    def current_total_duties(self) -> Decimal:
        return self.total_duties - sum((r.duties_total for r in self.refunds), ZERO)

    @property
    def total_additional_fees(self) -> Decimal:
        """originalTotalAdditionalFeesSet: every fee as charged at checkout."""
        return sum((f.price for f in self.additional_fees), ZERO)

    @property
    def current_total_additional_fees(self) -> Decimal:
        return self.total_additional_fees - sum((r.fees_total for r in self.refunds), ZERO)

    @property
    def total_price(self) -> Decimal:
        return (self.subtotal + self.total_shipping + self.added_tax + self.total_duties
                + self.total_additional_fees + self.tip)  # fmt: skip

    @property
    def total_received(self) -> Decimal:
        return sum(
            (
                t.amount
                for t in self.transactions
                if t.kind in ("SALE", "CAPTURE") and t.status == "SUCCESS"
            ),
            ZERO,
        )

    @property
    def total_refunded(self) -> Decimal:
        return sum((r.total_refunded for r in self.refunds), ZERO)

    @property
    def net_payment(self) -> Decimal:
        return self.total_received - self.total_refunded

    @property
    def total_outstanding(self) -> Decimal:
        """What the customer still owes: nothing once cancelled or fully paid."""
        if self.cancelled_at is not None:
            return ZERO
        return max(ZERO, self.current_total_price - self.net_payment)

    @property
    def current_subtotal(self) -> Decimal:
        removed = sum((li.removed_subtotal for li in self.line_items), ZERO)
        return self.subtotal - sum((r.line_items_subtotal for r in self.refunds), ZERO) - removed

    @property
    def current_total_discounts(self) -> Decimal:
        """Discounts still attached to the units the customer keeps (refunded units' share off)."""
        kept = ZERO
        for li in self.line_items:
            refunded = li.quantity - li.current_quantity
            kept += li.total_discount - money(li.total_discount * refunded / li.quantity)
        return kept + sum((s.total_discount for s in self.shipping_lines), ZERO)

    @property
    def current_shipping(self) -> Decimal:
        return self.total_shipping - sum((r.shipping_subtotal for r in self.refunds), ZERO)

    @property
    def current_total_tax(self) -> Decimal:
        removed = sum((li.removed_tax for li in self.line_items), ZERO)
        return self.total_tax - sum((r.total_tax for r in self.refunds), ZERO) - removed

    @property
    def current_total_price(self) -> Decimal:
        tax = self.current_total_tax
        if self.taxes_included:
            tax = self.charges_tax - sum((r.duty_tax + r.fee_tax for r in self.refunds), ZERO)
        return (self.current_subtotal + self.current_shipping + tax + self.current_total_duties
                + self.current_total_additional_fees + self.tip)  # fmt: skip


@dataclass(frozen=True)
class Customer:
    id: int
    email: str
    first_name: str
    last_name: str
    created_at: datetime
    updated_at: datetime
    number_of_orders: int  # non-deleted orders placed as of now
    amount_spent: Decimal  # net payments of those orders (received - refunded), shop money
    currency_code: str
    tags: tuple[str, ...]
    state: CustomerState

    @property
    def display_name(self) -> str:
        return f"{self.first_name} {self.last_name}"


@dataclass(frozen=True)
class DeletionEvent:
    """A deleted order as 2026-01 reports it.

    `deletionEvents` is deprecated and only ever covered PRODUCT and COLLECTION, so deleted orders
    surface through `events(query: "subject_type:ORDER AND action:destroy")` as a BasicEvent:
    action "destroy", subjectType ORDER, subjectId the order gid, createdAt the deletion time.
    """

    id: int
    order_id: int
    occurred_at: datetime
    message: str
    action: str = "destroy"
    subject_type: str = "ORDER"

    @property
    def subject_id(self) -> int:
        return self.order_id

    @property
    def created_at(self) -> datetime:
        return self.occurred_at
