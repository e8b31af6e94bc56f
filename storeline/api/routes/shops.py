"""Shops: list the caller's shops, read one with its platforms' sync state, create one.

Visibility is RLS's job (user_shops); a shop the caller cannot see is a 404, exactly like one
that does not exist, so ids of other agencies' shops are not confirmed.
"""

from __future__ import annotations

from typing import Annotated

import asyncpg
from litestar import Controller, get, post
from litestar.exceptions import HTTPException, NotFoundException
from litestar.params import JSONBody, Parameter
from pydantic import BaseModel, Field, field_validator

from storeline.api.database import UserDb
from storeline.api.views import PlatformStatus, Shop
from storeline.core.shops import normalize_shop_domain
from storeline.core.sql import queries

SQL = queries("app_dashboard")

ShopId = Annotated[str, Parameter(description="the shop's myshopify domain", max_length=200)]


class NewShop(BaseModel):
    shop_domain: str = Field(description='e.g. "my-shop.myshopify.com" or "my-shop"')
    name: str = Field(min_length=1, max_length=200)
    currency: str = Field(pattern=r"^[A-Z]{3}$", description="ISO 4217, the shop's currency")
    timezone: str = Field(min_length=1, max_length=64, description="IANA, e.g. Europe/Berlin")

    @field_validator("shop_domain")
    @classmethod
    def _domain(cls, value: str) -> str:
        return normalize_shop_domain(value)


async def load_shop(db: asyncpg.Connection, shop_id: str) -> Shop:
    """The shop with its platforms, or 404 when the caller cannot see it."""
    row = await db.fetchrow(SQL["get_shop"], shop_id)
    if row is None:
        raise NotFoundException(f"no shop {shop_id!r} for this user")
    platforms = [PlatformStatus.from_row(r) for r in await db.fetch(SQL["shop_platforms"], shop_id)]
    return Shop.from_row(row, platforms)


class ShopController(Controller):
    path = "/api/shops"
    tags = ("shops",)

    @get("/")
    async def list_shops(self, db: UserDb) -> dict[str, list[Shop]]:
        return {"shops": [Shop.from_row(r) for r in await db.fetch(SQL["list_shops"])]}

    @get("/{shop_id:str}")
    async def get_shop(self, db: UserDb, shop_id: ShopId) -> Shop:
        return await load_shop(db, shop_id)

    @post("/")
    async def create_shop(self, db: UserDb, data: JSONBody[NewShop]) -> Shop:
        """Agency owners only (RLS: 403 for anyone else); the creator is linked to the shop."""
        try:
            await db.execute(
                SQL["create_shop"], data.shop_domain, data.name, data.currency, data.timezone
            )
        except asyncpg.UniqueViolationError:
            raise HTTPException(
                status_code=409, detail=f"{data.shop_domain} is already registered"
            ) from None
        await db.execute(SQL["link_shop"], data.shop_domain)
        return await load_shop(db, data.shop_domain)
