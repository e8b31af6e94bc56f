"""Billing routes: the agency's plan status, Checkout and Billing Portal sessions for its owner,
and Stripe's webhook (docs/operations.md "Billing").

The webhook carries no user token: Stripe's signature (`Stripe-Signature`, checked by the stripe
library against the endpoint's signing secret) is its authentication, and it writes on the API's
own connection. Everything else runs in the caller's RLS transaction like any other route.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any, cast

import asyncpg
import orjson
import stripe
from litestar import Controller, Request, get, post
from litestar.exceptions import HTTPException, NotFoundException, PermissionDeniedException

from storeline.api.billing.sessions import BillingUnavailable, Stripe
from storeline.api.billing.settings import BillingSettings
from storeline.api.billing.webhook import handle
from storeline.api.database import UserDb
from storeline.api.openapi import problems
from storeline.core.logs import get_logger
from storeline.core.sql import queries

SQL = queries("app_dashboard")
log = get_logger("api.billing")


@dataclass
class BillingStatus:
    agency_id: uuid.UUID
    agency_name: str
    subscription_status: str
    active: bool  # its shops sync (scheduler and requests); otherwise data stays readable only
    has_billing_account: bool
    status_changed_at: datetime | None


@dataclass
class SessionUrl:
    url: str


@dataclass
class WebhookReceived:
    received: bool
    outcome: str  # applied | stale | unmatched | ignored | duplicate


def _stripe(request: Request[Any, Any, Any]) -> Stripe:
    billing: Stripe = request.app.state.billing
    if not billing.settings.enabled:
        raise NotFoundException(
            "billing is not enabled on this server (STORELINE_BILLING_STRIPE_SECRET_KEY and "
            "STORELINE_BILLING_WEBHOOK_SECRET)"
        )
    return billing


async def _account(db: asyncpg.Connection, *, owner: bool) -> asyncpg.Record:
    row = await db.fetchrow(SQL["api_billing_account"])
    if row is None:
        raise NotFoundException("this user belongs to no agency")
    if owner and row["role"] != "AGENCY_OWNER":
        raise PermissionDeniedException("only the agency owner manages billing")
    return row


class BillingController(Controller):
    path = "/api/billing"
    tags = ("billing",)

    @get("/", responses=problems(403, 404))
    async def status(self, db: UserDb) -> BillingStatus:
        """The caller's agency plan: whether its shops sync, and since which Stripe event."""
        row = await _account(db, owner=False)
        return BillingStatus(
            agency_id=row["agency_id"],
            agency_name=row["agency_name"],
            subscription_status=row["subscription_status"],
            active=row["active"],
            has_billing_account=row["stripe_customer_id"] is not None,
            status_changed_at=row["subscription_status_at"],
        )

    @post("/checkout", status_code=201, responses=problems(403, 404, 409, 502))
    async def checkout(self, request: Request[Any, Any, Any], db: UserDb) -> SessionUrl:
        """A Stripe Checkout session for the agency's plan (owner only); open its `url`."""
        billing = _stripe(request)
        row = await _account(db, owner=True)
        try:
            url = await billing.checkout(
                agency_id=row["agency_id"], customer=row["stripe_customer_id"], email=row["email"]
            )
        except BillingUnavailable as exc:
            raise HTTPException(status_code=502, detail=str(exc)) from None
        return SessionUrl(url)

    @post("/portal", status_code=201, responses=problems(403, 404, 409, 502))
    async def portal(self, request: Request[Any, Any, Any], db: UserDb) -> SessionUrl:
        """A Stripe Billing Portal session (owner only): change card, plan, or cancel."""
        billing = _stripe(request)
        row = await _account(db, owner=True)
        if row["stripe_customer_id"] is None:
            raise HTTPException(
                status_code=409, detail="the agency has no billing account yet: start a checkout"
            )
        try:
            url = await billing.portal(customer=row["stripe_customer_id"])
        except BillingUnavailable as exc:
            raise HTTPException(status_code=502, detail=str(exc)) from None
        return SessionUrl(url)

    @post("/webhook", exclude_from_auth=True, status_code=200, responses=problems(404, auth=False))
    async def webhook(self, request: Request[Any, Any, Any]) -> WebhookReceived:
        """Stripe's events, verified by `Stripe-Signature`; idempotent on the event id."""
        billing = _stripe(request)
        settings: BillingSettings = billing.settings
        assert settings.webhook_secret is not None
        payload = await request.body()
        try:
            stripe.WebhookSignature.verify_header(
                payload.decode("utf-8", errors="replace"),
                request.headers.get("stripe-signature"),
                settings.webhook_secret.get_secret_value(),
                settings.webhook_tolerance_seconds,
            )
            event = orjson.loads(payload)
        except stripe.SignatureVerificationError:
            raise HTTPException(
                status_code=400, detail="the Stripe-Signature header does not verify"
            ) from None
        except orjson.JSONDecodeError:
            raise HTTPException(status_code=400, detail="the event is not JSON") from None
        if (
            not isinstance(event, dict)
            or not isinstance(event.get("type"), str)
            or not event.get("id")
        ):
            raise HTTPException(status_code=400, detail="not a Stripe event")
        pool: asyncpg.Pool = request.app.state.pool
        async with pool.acquire() as conn:
            outcome = await handle(cast(asyncpg.Connection, conn), event)
        log.info("billing_event", event_id=event["id"], type=event["type"], outcome=outcome)
        return WebhookReceived(True, outcome)
