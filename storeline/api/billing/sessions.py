"""Checkout and Billing Portal sessions through the stripe library's async client.

The client's API base is a setting (`STORELINE_BILLING_STRIPE_API_BASE`), so tests run the same
calls against a local stand-in (sandbox/stripe.py) instead of Stripe's servers. The agency id
rides along as `client_reference_id` and in the subscription's metadata: the webhook finds the
agency from either, whichever event arrives first.
"""

from __future__ import annotations

import uuid
from typing import Any

import stripe

from storeline.api.billing.settings import BillingSettings


class BillingUnavailable(Exception):
    """Stripe could not be reached or refused the request; the message is safe to show."""


class Stripe:
    def __init__(self, settings: BillingSettings) -> None:
        self.settings = settings
        self._client: stripe.StripeClient | None = None

    @property
    def client(self) -> stripe.StripeClient:
        if self._client is None:
            assert self.settings.stripe_secret_key is not None
            self._client = stripe.StripeClient(
                self.settings.stripe_secret_key.get_secret_value(),
                base_addresses={"api": self.settings.stripe_api_base},
                http_client=stripe.HTTPXClient(timeout=self.settings.timeout_seconds),
                max_network_retries=1,
            )
        return self._client

    async def checkout(
        self, *, agency_id: uuid.UUID, customer: str | None, email: str | None
    ) -> str:
        """A subscription Checkout session for the agency's plan; returns its URL."""
        if not self.settings.price_id:
            raise BillingUnavailable("no plan is configured (STORELINE_BILLING_PRICE_ID)")
        params: dict[str, Any] = {
            "mode": "subscription",
            "line_items": [{"price": self.settings.price_id, "quantity": 1}],
            "success_url": self.settings.success_url,
            "cancel_url": self.settings.cancel_url,
            "client_reference_id": str(agency_id),
            "metadata": {"agency_id": str(agency_id)},
            "subscription_data": {"metadata": {"agency_id": str(agency_id)}},
        }
        if customer:
            params["customer"] = customer
        elif email:
            params["customer_email"] = email
        session = await self._call(self.client.v1.checkout.sessions.create_async, params)
        return str(session["url"])

    async def portal(self, *, customer: str) -> str:
        """A Billing Portal session for the agency's Stripe customer; returns its URL."""
        params = {"customer": customer, "return_url": self.settings.portal_return_url}
        session = await self._call(self.client.v1.billing_portal.sessions.create_async, params)
        return str(session["url"])

    async def _call(self, create: Any, params: dict[str, Any]) -> Any:
        try:
            return await create(params)
        except stripe.StripeError as exc:
            # Stripe's user_message is written for end users; never echo the raw error (it can
            # quote request parameters).
            reason = getattr(exc, "user_message", None) or type(exc).__name__
            raise BillingUnavailable(f"Stripe refused the request: {reason}") from None
