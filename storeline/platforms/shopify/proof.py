"""Proof that an access token belongs to a shop: the Admin API's `shop { myshopifyDomain }`
answered with that token names that very shop. The API registers a shop only on this proof
(storeline/api/routes/shops.py); the answer also carries the shop's name, currency and timezone,
which Shopify, not the caller, decides.

Plain httpx and the connector's settings only (no worker imports: the API uses this). Messages are
written here, never copied from a response, and never carry the token.
"""

from __future__ import annotations

from dataclasses import dataclass
from importlib.resources import files

import httpx
import orjson

from storeline.platforms.shopify.settings import ShopifySettings

_QUERY = (files(__package__) / "graphql" / "shop_proof.graphql").read_text()


class ProofRefused(Exception):
    """The token does not prove the shop (the caller's problem: a 4xx)."""


class ProofUnavailable(Exception):
    """Shopify could not be asked (timeouts, 5xx, garbled answers: not the caller's problem)."""


@dataclass(frozen=True)
class ShopFacts:
    domain: str
    name: str
    currency: str
    timezone: str


async def prove_shop(shop_id: str, token: str, settings: ShopifySettings) -> ShopFacts:
    """The shop's facts when `token` works for `shop_id`; ProofRefused / ProofUnavailable else."""
    try:
        async with httpx.AsyncClient(
            timeout=min(settings.request_timeout_seconds, 15.0), follow_redirects=False
        ) as client:
            response = await client.post(
                settings.graphql_url(shop_id),
                content=orjson.dumps({"query": _QUERY}),
                headers={
                    "X-Shopify-Access-Token": token,
                    "Content-Type": "application/json",
                    "Accept": "application/json",
                },
            )
    except httpx.HTTPError:
        raise ProofUnavailable("Shopify did not answer") from None
    if response.status_code in (401, 403, 404):
        raise ProofRefused("the access token does not work for this shop")
    if response.status_code in (402, 423):
        raise ProofRefused("the shop is frozen or locked on Shopify")
    if response.status_code != 200:
        raise ProofUnavailable(f"Shopify answered {response.status_code}")
    try:
        body = orjson.loads(response.content)
        if body.get("errors") and not (body.get("data") or {}).get("shop"):
            raise ProofRefused("the access token may not read the shop")
        shop = body["data"]["shop"]
        facts = ShopFacts(
            domain=str(shop["myshopifyDomain"]).lower(),
            name=str(shop["name"]),
            currency=str(shop["currencyCode"]),
            timezone=str(shop["ianaTimezone"]),
        )
    except (orjson.JSONDecodeError, KeyError, TypeError, AttributeError):
        raise ProofUnavailable("Shopify's answer was not a shop") from None
    if facts.domain != shop_id:
        raise ProofRefused("the access token belongs to another shop")
    return facts
