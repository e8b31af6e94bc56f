"""Shops: list the caller's shops, read one with its platforms' sync state, register one with
proof, rename one, delete one with its data.

Visibility is RLS's job (user_shops); a shop the caller cannot see is a 404, exactly like one
that does not exist, so ids of other agencies' shops are not confirmed. Registration is proven by
a working Shopify credential for that very shop (storeline/platforms/shopify/proof.py) before
anything is looked up, so an unproven caller learns nothing; who may do what is the role matrix
of docs/security.md, enforced in Postgres (95_role_matrix.sql).
"""

from __future__ import annotations

from typing import Annotated, Any, cast

import asyncpg
from litestar import Controller, Request, delete, get, patch, post
from litestar.exceptions import (
    HTTPException,
    NotFoundException,
    PermissionDeniedException,
    ServiceUnavailableException,
)
from litestar.params import JSONBody, Parameter
from pydantic import BaseModel, ConfigDict, Field, StringConstraints, field_validator

from storeline.api.auth import User
from storeline.api.database import UserDb
from storeline.api.openapi import problems
from storeline.api.views import PlatformStatus, Shop
from storeline.core.crypto import seal
from storeline.core.enums import Platform
from storeline.core.rls import as_user
from storeline.core.shops import SHOP_DOMAIN_PATTERN, normalize_shop_domain
from storeline.core.sql import queries
from storeline.platforms.shopify.proof import ProofRefused, ProofUnavailable, prove_shop

SQL = queries("app_dashboard")

# What people paste: "my-shop", "my-shop.myshopify.com", "https://My-Shop.myshopify.com/admin".
PASTED_DOMAIN_PATTERN = r"^(https?://)?[A-Za-z0-9][A-Za-z0-9-]{0,99}(\.myshopify\.com)?(/[!-~]*)?$"
TOKEN_PATTERN = r"^[!-~]+$"  # noqa: S105 (visible ASCII: it travels in an HTTP header)
# Text shown in dashboards: no control characters (NUL cannot be stored at all).
TEXT_PATTERN = r"^[^\u0000-\u001f\u007f-\u009f]+$"


ShopName = Annotated[str, StringConstraints(max_length=200, pattern=TEXT_PATTERN)]
PastedDomain = Annotated[str, StringConstraints(max_length=300, pattern=PASTED_DOMAIN_PATTERN)]
ShopifyToken = Annotated[str, StringConstraints(max_length=500, pattern=TOKEN_PATTERN)]


def utf8(value: str) -> str:
    """Lone surrogates (a JSON "\\ud800") are not text Postgres can store."""
    try:
        value.encode()
    except UnicodeEncodeError:
        raise ValueError("must be valid Unicode text") from None
    return value


ShopId = Annotated[
    str,
    Parameter(
        description="the shop's myshopify domain", max_length=200, pattern=SHOP_DOMAIN_PATTERN
    ),
]


class NewShop(BaseModel):
    model_config = ConfigDict(extra="forbid")

    shop_domain: PastedDomain = Field(
        description='the shop\'s myshopify domain, e.g. "my-shop.myshopify.com" or "my-shop"',
    )
    access_token: ShopifyToken = Field(
        description="a Shopify Admin API access token of this shop: registration is proven by "
        "reading the shop with it. Stored encrypted as the shop's Shopify connection, never "
        "returned.",
    )

    @field_validator("shop_domain")
    @classmethod
    def _domain(cls, value: str) -> str:
        return normalize_shop_domain(value)


class ShopChange(BaseModel):
    """What members may change themselves. Currency and timezone are the shop's Shopify settings,
    which the worker copies (storeline/platforms/shopify/shop_profile.py)."""

    model_config = ConfigDict(extra="forbid")

    name: ShopName

    @field_validator("name")
    @classmethod
    def _encodable(cls, value: str) -> str:
        return utf8(value)


async def load_shop(db: asyncpg.Connection, shop_id: str) -> Shop:
    """The shop with its platforms, or 404 when the caller cannot see it."""
    row = await db.fetchrow(SQL["get_shop"], shop_id)
    if row is None:
        raise NotFoundException(f"no shop {shop_id!r} for this user")
    platforms = [PlatformStatus.from_row(r) for r in await db.fetch(SQL["shop_platforms"], shop_id)]
    return Shop.from_row(row, platforms)


_REGISTERED = {
    "registered_here": "this shop is already registered in your agency",
    "registered_elsewhere": "this shop is registered by another agency that proved it with a "
    "working Shopify credential; its owner can delete it",
}


class ShopController(Controller):
    path = "/api/shops"
    tags = ("shops",)

    @get("/", responses=problems())
    async def list_shops(self, db: UserDb) -> dict[str, list[Shop]]:
        return {"shops": [Shop.from_row(r) for r in await db.fetch(SQL["list_shops"])]}

    @get("/{shop_id:str}", responses=problems(404))
    async def get_shop(self, db: UserDb, shop_id: ShopId) -> Shop:
        return await load_shop(db, shop_id)

    @post("/", responses=problems(403, 409, 422, 503))
    async def create_shop(self, request: Request[User, Any, Any], data: JSONBody[NewShop]) -> Shop:
        """Agency owners only. The token must read this very shop on Shopify (else 422, before
        anything is looked up); the shop takes Shopify's name, currency and timezone, becomes the
        caller's, gets the token as its Shopify connection and its backfill is queued."""
        try:
            facts = await prove_shop(data.shop_domain, data.access_token, request.app.state.shopify)
        except ProofRefused as exc:
            raise HTTPException(status_code=422, detail=f"registration not proven: {exc}") from None
        except ProofUnavailable:
            raise ServiceUnavailableException("Shopify could not be asked; try again") from None
        sealed = seal(
            {"access_token": data.access_token}, shop_id=data.shop_domain, platform=Platform.SHOPIFY
        )
        pool: asyncpg.Pool = request.app.state.pool
        async with pool.acquire() as conn, conn.transaction():
            outcome = await conn.fetchval(
                SQL["register_proven_shop"],
                request.user.id,
                data.shop_domain,
                facts.name[:200] or data.shop_domain,
                facts.currency,
                facts.timezone,
                sealed.key_id,
                sealed.ciphertext,
            )
        if outcome in _REGISTERED:
            raise HTTPException(status_code=409, detail=_REGISTERED[outcome])
        async with (
            pool.acquire() as conn,
            as_user(cast(asyncpg.Connection, conn), request.user.claims) as db,
        ):
            return await load_shop(db, data.shop_domain)

    @patch("/{shop_id:str}", responses=problems(403, 404, 422))
    async def update_shop(self, db: UserDb, shop_id: ShopId, data: JSONBody[ShopChange]) -> Shop:
        """Rename a shop: owners and staff of a linked shop (RLS: managers_rename)."""
        if await db.fetchval(SQL["rename_shop"], shop_id, data.name) is None:
            await load_shop(db, shop_id)  # 404 when the caller cannot see it at all
            raise PermissionDeniedException("your role may not rename a shop")
        return await load_shop(db, shop_id)

    @delete("/{shop_id:str}", status_code=204, responses=problems(403, 404))
    async def delete_shop(self, db: UserDb, shop_id: ShopId) -> None:
        """Delete the shop with every row of its data, its connections and jobs: the owner of
        its agency only. A running job finds its lease gone and writes nothing more."""
        if await db.fetchval(SQL["delete_shop"], shop_id) is None:
            raise NotFoundException(f"no shop {shop_id!r} for this user")
