"""Model objects as the Admin API renders them: camelCase dicts with `__typename`.

One view feeds both paths: graphql-core resolves synchronous queries over it (connection fields
hold plain lists that the resolvers page), and the bulk writer projects it into JSONL lines.
Views are built per object on demand, so memory follows the page (or the bulk line), never the
shop's history.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from sandbox.shopify import model
from sandbox.shopify.encoding import gid, money, timestamp

View = dict[str, Any]

_APPLICATION_TYPES = {
    "DISCOUNT_CODE": "DiscountCodeApplication",
    "AUTOMATIC": "AutomaticDiscountApplication",
    "MANUAL": "ManualDiscountApplication",
}


class _Money:
    """MoneyBag/MoneyV2 rendering in one order's shop and presentment currencies."""

    def __init__(self, order: model.Order) -> None:
        self.order = order

    def v2(self, amount: Decimal) -> View:
        return {
            "__typename": "MoneyV2",
            "amount": money(amount),
            "currencyCode": self.order.currency_code,
        }

    def bag(self, amount: Decimal) -> View:
        return {
            "__typename": "MoneyBag",
            "shopMoney": self.v2(amount),
            "presentmentMoney": {
                "__typename": "MoneyV2",
                "amount": money(self.order.presentment(amount)),
                "currencyCode": self.order.presentment_currency_code,
            },
        }


def order_view(order: model.Order) -> View:
    m = _Money(order)
    applications = {a.index: _application(a, m) for a in order.discount_applications}
    lines = {li.id: _line_item(li, m, applications) for li in order.line_items}
    shipping = {s.id: _shipping_line(s, m, applications) for s in order.shipping_lines}
    transactions = _transactions(order.transactions, m)
    duties = {d["id"]: d for li in lines.values() for d in li["duties"]}
    fees_total = m.bag(order.total_additional_fees) if order.additional_fees else None
    view: View = {
        "__typename": "Order",
        "id": gid("Order", order.id),
        "legacyResourceId": str(order.id),
        "name": order.name,
        "createdAt": timestamp(order.created_at),
        "processedAt": timestamp(order.processed_at),
        "updatedAt": timestamp(order.updated_at),
        "cancelledAt": timestamp(order.cancelled_at),
        "cancelReason": order.cancel_reason,
        "closed": order.closed,
        "closedAt": timestamp(order.closed_at),
        "test": order.test,
        "email": order.email,
        "customer": (
            {"__typename": "Customer", "id": gid("Customer", order.customer_id)}
            if order.customer_id is not None
            else None
        ),
        "currencyCode": order.currency_code,
        "presentmentCurrencyCode": order.presentment_currency_code,
        "taxesIncluded": order.taxes_included,
        "sourceName": order.source_name,
        "tags": list(order.tags),
        "note": order.note,
        "displayFinancialStatus": order.display_financial_status,
        "displayFulfillmentStatus": order.display_fulfillment_status,
        "discountCode": order.discount_code,
        "discountCodes": list(order.discount_codes),
        "subtotalPriceSet": m.bag(order.subtotal),
        "totalDiscountsSet": m.bag(order.total_discounts),
        "totalShippingPriceSet": m.bag(order.total_shipping),
        "totalTaxSet": m.bag(order.total_tax),
        "totalPriceSet": m.bag(order.total_price),
        "totalRefundedSet": m.bag(order.total_refunded),
        "totalOutstandingSet": m.bag(order.total_outstanding),
        "currentSubtotalPriceSet": m.bag(order.current_subtotal),
        "currentTotalDiscountsSet": m.bag(order.current_total_discounts),
        "currentTotalTaxSet": m.bag(order.current_total_tax),
        "currentTotalPriceSet": m.bag(order.current_total_price),
        # Null, like Shopify, on orders without duties / additional fees.
        "originalTotalDutiesSet": m.bag(order.total_duties) if duties else None,
        "currentTotalDutiesSet": m.bag(order.current_total_duties) if duties else None,
        "originalTotalAdditionalFeesSet": fees_total,
        "currentTotalAdditionalFeesSet": (
            m.bag(order.current_total_additional_fees) if order.additional_fees else None
        ),
        "additionalFees": [_fee(f, m) for f in order.additional_fees],
        "totalTipReceivedSet": m.bag(order.tip),
        "currentTaxLines": _tax_lines(_current_tax_lines(order), m),
        "customerJourneySummary": _journey(order.customer_journey),
        "lineItems": list(lines.values()),
        "shippingLines": list(shipping.values()),
        "transactions": list(transactions.values()),
    }
    view["refunds"] = [
        _refund(r, m, lines, shipping, transactions, view, duties) for r in order.refunds
    ]
    view["returns"] = [_return(r, m, lines) for r in order.returns]
    returns = {r["id"]: r for r in view["returns"]}
    view["agreements"] = [_agreement(a, m, lines, returns) for a in order.agreements]
    view["edited"] = any(a.reason == "ORDER_EDIT" for a in order.agreements)
    view["returnStatus"] = "RETURNED" if order.returns else "NO_RETURN"
    return view


def _current_tax_lines(order: model.Order) -> tuple[model.TaxLine, ...]:
    """Order.currentTaxLines: every tax line's amount on what the customer still has.

    Lines scale by current/original quantity (refunds and edits alike); refunded shipping and
    duties drop their tax. Per-line rounding, so the sum can differ from currentTotalTaxSet by
    a cent on multi-rate orders.
    """
    sums: dict[tuple[str, Decimal], Decimal] = {}

    def add(tax_lines: tuple[model.TaxLine, ...], keep: Decimal) -> None:
        for t in tax_lines:
            key = (t.title, t.rate)
            sums[key] = sums.get(key, model.ZERO) + model.money(t.price * keep)

    for li in order.line_items:
        add(li.tax_lines, Decimal(li.current_quantity) / li.quantity)
    refunded_shipping = {s.shipping_line_id for r in order.refunds for s in r.refund_shipping_lines}
    for s in order.shipping_lines:
        add(s.tax_lines, Decimal(0 if s.id in refunded_shipping else 1))
    duties_back = any(r.duties for r in order.refunds)
    for li in order.line_items:
        for d in li.duties:
            add(d.tax_lines, Decimal(0 if duties_back else 1))
    fees_back = {f.id for r in order.refunds for f in r.fees}
    for f in order.additional_fees:
        add(f.tax_lines, Decimal(0 if f.id in fees_back else 1))
    return tuple(model.TaxLine(title, rate, price) for (title, rate), price in sums.items())


def _agreement(
    a: model.Agreement, m: _Money, lines: dict[int, View], returns: dict[str, View]
) -> View:
    typename = {"ORDER_EDIT": "OrderEditAgreement", "REFUND": "RefundAgreement"}.get(
        a.reason, "ReturnAgreement"
    )
    extra = {} if a.return_id is None else {"return": returns.get(gid("Return", a.return_id))}
    return {
        **extra,
        "__typename": typename,
        "id": gid("SalesAgreement", a.id),
        "happenedAt": timestamp(a.happened_at),
        "reason": a.reason,
        "sales": [_sale(s, m, lines) for s in a.sales],
    }


def _sale(s: model.Sale, m: _Money, lines: dict[int, View]) -> View:
    common = {
        "id": gid("Sale", s.id),
        "actionType": s.action_type,
        "quantity": s.quantity,
        "totalAmount": m.bag(s.total_amount),
        "totalDiscountAmountAfterTaxes": m.bag(s.total_discount),
        "totalDiscountAmountBeforeTaxes": m.bag(s.total_discount),
        "totalTaxAmount": m.bag(s.total_tax),
    }
    if s.fee is not None:
        fee = {**_fee(s.fee, m), "__typename": "SaleAdditionalFee"}
        return {**common, "__typename": "AdditionalFeeSale", "lineType": "ADDITIONAL_FEE",
                "additionalFee": fee}  # fmt: skip
    line = lines.get(s.line_item_id) if s.line_item_id is not None else None
    return {**common, "__typename": "ProductSale", "lineType": "PRODUCT", "lineItem": line}


def _return(r: model.Return, m: _Money, lines: dict[int, View]) -> View:
    fee = None
    if r.restocking_fee_percentage:
        fee = {
            "__typename": "RestockingFee",
            "id": gid("RestockingFee", r.id),
            "amountSet": m.bag(r.restocking_fee),
            "percentage": float(r.restocking_fee_percentage),
        }
    exchanges = []
    if r.exchange_line_item_id is not None:
        exchanges.append({
            "__typename": "ExchangeLineItem",
            "id": gid("ExchangeLineItem", r.id),
            "lineItems": [lines[r.exchange_line_item_id]],
            "quantity": 1,
            "processedQuantity": 1,
        })  # fmt: skip
    return {
        "__typename": "Return",
        "id": gid("Return", r.id),
        "name": r.name,
        "status": "CLOSED",
        "createdAt": timestamp(r.created_at),
        "closedAt": timestamp(r.created_at),
        "totalQuantity": r.quantity,
        "returnShippingFees": [
            {
                "__typename": "ReturnShippingFee",
                "id": gid("ReturnShippingFee", r.id),
                "amountSet": m.bag(r.return_shipping_fee),
            }
        ]
        if r.return_shipping_fee
        else [],
        "returnLineItems": [
            {
                "__typename": "ReturnLineItem",
                "id": gid("ReturnLineItem", r.id),
                "quantity": r.quantity,
                "processedQuantity": r.quantity,
                "restockingFee": fee,
                "fulfillmentLineItem": {
                    "__typename": "FulfillmentLineItem",
                    "id": gid("FulfillmentLineItem", r.line_item_id),
                    "lineItem": lines.get(r.line_item_id),
                    "quantity": r.quantity,
                },
            }
        ],
        "exchangeLineItems": exchanges,
    }


def _duty(d: model.Duty, m: _Money) -> View:
    return {
        "__typename": "Duty",
        "id": gid("Duty", d.id),
        "harmonizedSystemCode": d.harmonized_system_code,
        "countryCodeOfOrigin": d.country_code_of_origin,
        "price": m.bag(d.price),
        "taxLines": _tax_lines(d.tax_lines, m),
    }


def _fee(f: model.AdditionalFee, m: _Money) -> View:
    return {
        "__typename": "AdditionalFee",
        "id": gid("AdditionalFee", f.id),
        "name": f.name,
        "price": m.bag(f.price),
        "taxLines": _tax_lines(f.tax_lines, m),
    }


def _application(app: model.DiscountApplication, m: _Money) -> View:
    value: View = (
        {"__typename": "PricingPercentageValue", "percentage": float(app.value)}
        if app.value_type == "PERCENTAGE"
        else m.v2(app.value)
    )
    return {
        "__typename": _APPLICATION_TYPES[app.type],
        "index": app.index,
        "allocationMethod": app.allocation_method,
        "targetSelection": app.target_selection,
        "targetType": app.target_type,
        "value": value,
        "code": app.code,
        "title": app.title,
        "description": None,
    }


def _allocations(
    allocations: tuple[model.DiscountAllocation, ...], m: _Money, applications: dict[int, View]
) -> list[View]:
    out = []
    for a in allocations:
        application = applications.get(a.discount_application_index) or {
            "__typename": "DiscountCodeApplication" if a.code else "AutomaticDiscountApplication",
            "index": a.discount_application_index,
            "allocationMethod": a.allocation_method,
            "targetSelection": "ALL",
            "targetType": a.target_type,
            "value": m.v2(a.amount),
            "code": a.code,
            "title": a.code or "Discount",
        }
        out.append(
            {
                "__typename": "DiscountAllocation",
                "allocatedAmountSet": m.bag(a.amount),
                "discountApplication": application,
            }
        )
    return out


def _tax_lines(tax_lines: tuple[model.TaxLine, ...], m: _Money) -> list[View]:
    return [
        {
            "__typename": "TaxLine",
            "title": t.title,
            "rate": float(t.rate),
            "ratePercentage": float(t.rate * 100),
            "priceSet": m.bag(t.price),
            "channelLiable": False,
        }
        for t in tax_lines
    ]


def _line_item(li: model.LineItem, m: _Money, applications: dict[int, View]) -> View:
    return {
        "__typename": "LineItem",
        "id": gid("LineItem", li.id),
        "title": li.title,
        "name": li.name,
        "sku": li.sku,
        "vendor": li.vendor,
        "quantity": li.quantity,
        "currentQuantity": li.current_quantity,
        "refundableQuantity": li.refundable_quantity,
        "taxable": li.taxable,
        "requiresShipping": li.requires_shipping,
        "variant": {"__typename": "ProductVariant", "id": gid("ProductVariant", li.variant_id)},
        "product": {"__typename": "Product", "id": gid("Product", li.product_id)},
        "originalUnitPriceSet": m.bag(li.original_unit_price),
        "originalTotalSet": m.bag(li.original_total),
        "totalDiscountSet": m.bag(li.total_discount),
        "discountedTotalSet": m.bag(li.discounted_total),
        "discountedUnitPriceSet": m.bag(li.discounted_unit_price),
        "discountAllocations": _allocations(li.discount_allocations, m, applications),
        "taxLines": _tax_lines(li.tax_lines, m),
        "duties": [_duty(d, m) for d in li.duties],
        "isGiftCard": li.is_gift_card,
    }


def _shipping_line(s: model.ShippingLine, m: _Money, applications: dict[int, View]) -> View:
    return {
        "__typename": "ShippingLine",
        "id": gid("ShippingLine", s.id),
        "title": s.title,
        "code": s.code,
        "source": s.source,
        "isRemoved": s.is_removed,
        "originalPriceSet": m.bag(s.original_price),
        "discountedPriceSet": m.bag(s.discounted_price),
        "discountAllocations": _allocations(s.discount_allocations, m, applications),
        "taxLines": _tax_lines(s.tax_lines, m),
    }


def _transactions(transactions: tuple[model.Transaction, ...], m: _Money) -> dict[int, View]:
    views: dict[int, View] = {}
    for t in transactions:
        views[t.id] = {
            "__typename": "OrderTransaction",
            "id": gid("OrderTransaction", t.id),
            "kind": t.kind,
            "status": t.status,
            "gateway": t.gateway,
            "test": t.test,
            "errorCode": t.error_code,
            "createdAt": timestamp(t.created_at),
            "processedAt": timestamp(t.processed_at),
            "parentTransaction": None,
            "amountSet": m.bag(t.amount),
        }
    for t in transactions:
        if t.parent_id is not None:
            views[t.id]["parentTransaction"] = views.get(t.parent_id) or {
                "__typename": "OrderTransaction",
                "id": gid("OrderTransaction", t.parent_id),
            }
    return views


def _refund(
    r: model.Refund,
    m: _Money,
    lines: dict[int, View],
    shipping: dict[int, View],
    transactions: dict[int, View],
    order: View,
    duties: dict[str, View],
) -> View:
    return {
        "__typename": "Refund",
        "id": gid("Refund", r.id),
        "createdAt": timestamp(r.created_at),
        "updatedAt": timestamp(r.updated_at),
        "note": r.note,
        "order": order,
        "totalRefundedSet": m.bag(r.total_refunded),
        "refundLineItems": [
            {
                "__typename": "RefundLineItem",
                "id": gid("RefundLineItem", rli.id),
                "lineItem": lines.get(rli.line_item_id),
                "quantity": rli.quantity,
                "restockType": rli.restock_type,
                "restocked": rli.restocked,
                "priceSet": m.bag(rli.price),
                "subtotalSet": m.bag(rli.subtotal),
                "totalTaxSet": m.bag(rli.total_tax),
            }
            for rli in r.refund_line_items
        ],
        "refundShippingLines": [
            {
                "__typename": "RefundShippingLine",
                "id": gid("RefundShippingLine", rsl.id),
                "shippingLine": shipping.get(rsl.shipping_line_id),
                "subtotalAmountSet": m.bag(rsl.subtotal),
                "taxAmountSet": m.bag(rsl.tax),
            }
            for rsl in r.refund_shipping_lines
        ],
        "transactions": [transactions[t.id] for t in r.transactions if t.id in transactions],
        "orderAdjustments": [
            {
                "__typename": "OrderAdjustment",
                "id": gid("OrderAdjustment", a.id),
                "amountSet": m.bag(a.amount),
                "taxAmountSet": m.bag(a.tax),
                "reason": a.reason,
            }
            for a in r.order_adjustments
        ],
        "duties": [
            {
                "__typename": "RefundDuty",
                "amountSet": m.bag(d.amount),
                "originalDuty": duties.get(gid("Duty", d.duty_id)),
            }
            for d in r.duties
        ],
    }


def _journey(journey: model.CustomerJourney | None) -> View | None:
    if journey is None:
        return None
    return {
        "__typename": "CustomerJourneySummary",
        "customerOrderIndex": journey.customer_order_index,
        "daysToConversion": journey.days_to_conversion,
        "ready": journey.ready,
        "firstVisit": _visit(journey.first_visit),
        "lastVisit": _visit(journey.last_visit),
    }


def _visit(visit: model.Visit | None) -> View | None:
    if visit is None:
        return None
    utm = {
        "campaign": visit.utm_campaign,
        "content": visit.utm_content,
        "medium": visit.utm_medium,
        "source": visit.utm_source,
        "term": visit.utm_term,
    }
    return {
        "__typename": "CustomerVisit",
        "id": gid("CustomerVisit", visit.id),
        "landingPage": visit.landing_page,
        "occurredAt": timestamp(visit.occurred_at),
        "referrerUrl": visit.referrer_url,
        "source": visit.source,
        "sourceType": visit.source_type,
        "utmParameters": {"__typename": "UTMParameters", **utm} if any(utm.values()) else None,
    }


def customer_view(customer: model.Customer) -> View:
    return {
        "__typename": "Customer",
        "id": gid("Customer", customer.id),
        "legacyResourceId": str(customer.id),
        "firstName": customer.first_name,
        "lastName": customer.last_name,
        "displayName": customer.display_name,
        "email": customer.email,
        "defaultEmailAddress": {
            "__typename": "CustomerEmailAddress",
            "emailAddress": customer.email,
        },
        "createdAt": timestamp(customer.created_at),
        "updatedAt": timestamp(customer.updated_at),
        "numberOfOrders": str(customer.number_of_orders),
        "amountSpent": {
            "__typename": "MoneyV2",
            "amount": money(customer.amount_spent),
            "currencyCode": customer.currency_code,
        },
        "tags": list(customer.tags),
        "state": customer.state,
    }


def event_view(event: model.DeletionEvent) -> View:
    return {
        "__typename": "BasicEvent",
        "id": gid("BasicEvent", event.id),
        "action": event.action,
        "appTitle": None,
        "attributeToApp": False,
        "attributeToUser": True,
        "createdAt": timestamp(event.created_at),
        "criticalAlert": False,
        "message": event.message,
        "subjectId": gid("Order", event.subject_id),
        "subjectType": event.subject_type,
    }
