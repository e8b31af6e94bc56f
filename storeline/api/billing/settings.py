"""Billing settings (env prefix `STORELINE_BILLING_`). Billing is off until a Stripe secret key,
a webhook signing secret and a price are set; a self-hosted install without them never charges."""

from __future__ import annotations

from functools import lru_cache

from pydantic import AliasChoices, Field, SecretStr, ValidationError
from pydantic_settings import BaseSettings, SettingsConfigDict

from storeline.core.errors import ConfigError


class BillingSettings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="STORELINE_BILLING_", extra="ignore", populate_by_name=True
    )

    stripe_secret_key: SecretStr | None = Field(
        default=None,
        validation_alias=AliasChoices("STORELINE_BILLING_STRIPE_SECRET_KEY", "STRIPE_SECRET_KEY"),
    )
    # The endpoint's signing secret (whsec_…) from the Stripe dashboard or `stripe listen`.
    webhook_secret: SecretStr | None = Field(
        default=None,
        validation_alias=AliasChoices("STORELINE_BILLING_WEBHOOK_SECRET", "STRIPE_WEBHOOK_SECRET"),
    )
    # The plan's recurring price (price_…).
    price_id: str | None = None
    # Where the stripe library sends API calls; tests point it at a local stand-in
    # (sandbox/stripe.py).
    stripe_api_base: str = "https://api.stripe.com"
    # Where Stripe sends the owner back after Checkout and from the Billing Portal.
    success_url: str = "http://localhost:3000/billing?checkout=success"
    cancel_url: str = "http://localhost:3000/billing?checkout=cancelled"
    portal_return_url: str = "http://localhost:3000/billing"
    # Signatures older than this are refused (replayed captures), as Stripe recommends.
    webhook_tolerance_seconds: int = Field(default=300, ge=1)
    timeout_seconds: float = Field(default=20.0, gt=0)

    @property
    def enabled(self) -> bool:
        return self.stripe_secret_key is not None and self.webhook_secret is not None


@lru_cache
def billing_settings() -> BillingSettings:
    try:
        return BillingSettings()
    except ValidationError as exc:
        first = exc.errors()[0]
        name = f"STORELINE_BILLING_{first['loc'][0]}".upper()
        raise ConfigError(f"{name}: {first['msg']}") from exc
