"""What a Stripe event means for an agency, and applying it exactly once, in order.

Stripe delivers at least once and in no particular order. So: an event id already recorded is
a no-op (app_dashboard.billing_events); the agency row is locked while an event is applied; and
an event older (Stripe's `created`) than the one that set the agency's status changes nothing.
Events created in the same second are ordered by how far along a subscription's life their
status is (incomplete < trialing < active < past_due < unpaid/paused < canceled), and a
subscription that has ended never comes back. An event about a subscription other than the
agency's current one takes over only with a live status (a new plan after a cancellation), never
to end or degrade the current one.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import asyncpg

from storeline.core.sql import queries

SQL = queries("app_dashboard")

HANDLED = (
    "checkout.session.completed",
    "customer.subscription.created",
    "customer.subscription.updated",
    "customer.subscription.deleted",
    "invoice.payment_failed",
)
LIVE = ("active", "trialing")
ENDED = ("canceled", "incomplete_expired")
_STAGE = {
    "incomplete": 0,
    "trialing": 1,
    "active": 2,
    "past_due": 3,
    "unpaid": 4,
    "paused": 4,
    "canceled": 5,
    "incomplete_expired": 5,
}


@dataclass(frozen=True)
class Change:
    """What an event says: whose it is (any of three keys) and, if it says, the new status."""

    agency_id: uuid.UUID | None
    customer: str | None
    subscription: str | None
    status: str | None  # None: only link the customer/subscription to the agency


def _id(value: Any) -> str | None:
    """A Stripe reference: an id string, or an expanded object's id."""
    if isinstance(value, dict):
        value = value.get("id")
    return value if isinstance(value, str) and value else None


def _agency(*candidates: Any) -> uuid.UUID | None:
    for value in candidates:
        try:
            return uuid.UUID(str(value)) if value else None
        except ValueError:
            continue
    return None


def interpret(event: dict[str, Any]) -> Change | None:
    """The change an event asks for, or None for an event we do not act on."""
    kind = event.get("type")
    obj: dict[str, Any] = (event.get("data") or {}).get("object") or {}
    metadata = obj.get("metadata") or {}
    if kind == "checkout.session.completed":
        if obj.get("mode") != "subscription":
            return None
        paid = obj.get("payment_status") in ("paid", "no_payment_required")
        return Change(
            _agency(obj.get("client_reference_id"), metadata.get("agency_id")),
            _id(obj.get("customer")),
            _id(obj.get("subscription")),
            "active" if paid and _id(obj.get("subscription")) else None,
        )
    if kind in HANDLED[1:4]:
        status = "canceled" if kind == "customer.subscription.deleted" else obj.get("status")
        if status not in _STAGE:
            return None
        return Change(
            _agency(metadata.get("agency_id")), _id(obj.get("customer")), _id(obj.get("id")), status
        )
    if kind == "invoice.payment_failed":
        # API versions before 2025-03 name the subscription on the invoice; newer ones under
        # parent.subscription_details.
        details = (obj.get("parent") or {}).get("subscription_details") or {}
        legacy = obj.get("subscription_details") or {}
        subscription = _id(obj.get("subscription")) or _id(details.get("subscription"))
        if subscription is None:
            return None  # a one-off invoice: not the plan
        hint = (details.get("metadata") or legacy.get("metadata") or {}).get("agency_id")
        return Change(_agency(hint), _id(obj.get("customer")), subscription, "past_due")
    return None


def decide(agency: asyncpg.Record, change: Change, at: datetime) -> str:
    """`applied`, `linked` (ids only) or `stale` for this agency's current billing state."""
    if change.status is None:
        return "linked"
    current_sub = agency["stripe_subscription_id"]
    current = agency["subscription_status"]
    if current_sub and change.subscription and current_sub != change.subscription:
        taking_over = current in ENDED or agency["subscription_status_at"] is None
        return "applied" if change.status in LIVE or taking_over else "stale"
    if current_sub == change.subscription and current in ENDED and change.status not in ENDED:
        return "stale"
    last = agency["subscription_status_at"]
    if last is not None and (
        at < last or (at == last and _STAGE[change.status] < _STAGE.get(current, 0))
    ):
        return "stale"
    return "applied"


async def handle(conn: asyncpg.Connection, event: dict[str, Any]) -> str:
    """Record and apply one verified event; returns its outcome (`duplicate` for a replay)."""
    event_id = str(event.get("id") or "")
    at = datetime.fromtimestamp(int(event.get("created") or 0), UTC)
    async with conn.transaction():
        if await conn.fetchval(SQL["billing_record_event"], event_id, event["type"], at) is None:
            return "duplicate"
        change = interpret(event)
        if change is None:
            return "ignored"
        agency = await conn.fetchrow(
            SQL["billing_find_agency"], change.agency_id, change.subscription, change.customer
        )
        if agency is None:
            outcome = "unmatched"
        else:
            outcome = decide(agency, change, at)
            if outcome == "linked":
                await conn.execute(SQL["billing_link_customer"], agency["id"], change.customer)
                outcome = "applied"
            elif outcome == "applied":
                await conn.execute(
                    SQL["billing_set_subscription"],
                    agency["id"],
                    change.customer,
                    change.subscription,
                    change.status,
                    at,
                )
        await conn.execute(
            SQL["billing_event_outcome"], event_id, outcome, agency["id"] if agency else None
        )
    return outcome
