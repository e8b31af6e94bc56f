"""Connect the sandbox's shops to Storeline exactly as a user would: a seed with credentials."""

from __future__ import annotations

import uuid
from typing import Any

from storeline.core.enums import Platform
from storeline.core.seed import AgencySeed, CredentialSeed, SeedFile, ShopSeed, UserSeed

DEMO_AGENCY = "Demo Agency"
DEMO_OWNER = UserSeed(
    id=uuid.UUID("00000000-0000-4000-8000-000000000de0"),
    email="owner@demo-agency.test",
    agency=DEMO_AGENCY,
)


def seed_for(shops: list[dict[str, Any]], platforms: list[Platform]) -> SeedFile:
    """Agency, owner, shops and the credentials of the chosen platforms from /_sandbox/shops."""
    credentials: list[CredentialSeed] = []
    for shop in shops:
        for platform in platforms:
            secrets, metadata = _credential(shop, platform)
            credentials.append(
                CredentialSeed(
                    shop=shop["shop_id"], platform=platform, secrets=secrets, metadata=metadata
                )
            )
    return SeedFile(
        agencies=[AgencySeed(name=DEMO_AGENCY)],
        users=[DEMO_OWNER],
        shops=[
            ShopSeed(
                id=s["shop_id"],
                name=s["name"],
                currency=s["currency"],
                timezone=s["timezone"],
                agency=DEMO_AGENCY,
                users=[DEMO_OWNER.email],
            )
            for s in shops
        ],
        credentials=credentials,
    )


def _credential(shop: dict[str, Any], platform: Platform) -> tuple[dict[str, str], dict[str, Any]]:
    if platform is Platform.SHOPIFY:
        return {"access_token": shop["shopify"]["access_token"]}, {}
    if platform is Platform.META:
        return (
            {"access_token": shop["meta"]["access_token"]},
            {"ad_account_ids": [shop["meta"]["ad_account_id"]]},
        )
    if platform is Platform.GA4:
        ga4 = shop["ga4"]
        return (
            {k: ga4[k] for k in ("client_id", "client_secret", "refresh_token")},
            {"property_id": ga4["property_id"]},
        )
    return (
        {"access_token": shop["hubspot"]["access_token"]},
        {"portal_id": shop["hubspot"]["portal_id"]},
    )
