"""The caller's profile and default shop. RLS shows a user only their own rows, so nothing here
names the user: the transaction's claims do."""

from __future__ import annotations

from typing import Annotated

import asyncpg
from litestar import Controller, get, put
from litestar.exceptions import NotFoundException
from litestar.params import JSONBody
from pydantic import BaseModel, ConfigDict, StringConstraints

from storeline.api.database import UserDb
from storeline.api.openapi import problems
from storeline.api.views_sync import Me
from storeline.core.shops import SHOP_DOMAIN_PATTERN
from storeline.core.sql import queries

SQL = queries("app_dashboard")


class DefaultShop(BaseModel):
    model_config = ConfigDict(extra="forbid")

    shop_id: Annotated[str, StringConstraints(max_length=200, pattern=SHOP_DOMAIN_PATTERN)]


async def _me(db: asyncpg.Connection) -> Me:
    row = await db.fetchrow(SQL["api_me"])
    if row is None:
        raise NotFoundException("this token's user has no Storeline account")
    return Me.from_row(row)


class MeController(Controller):
    path = "/api/me"
    tags = ("me",)

    @get("/", responses=problems(404))
    async def me(self, db: UserDb) -> Me:
        return await _me(db)

    @put("/default-shop", responses=problems(404))
    async def set_default_shop(self, db: UserDb, data: JSONBody[DefaultShop]) -> Me:
        """Make one of the caller's shops their default; the old default is cleared in the same
        transaction (a 404 rolls both back), so there is always at most one."""
        await db.fetch(SQL["api_lock_my_links"])
        await db.execute(SQL["api_clear_default"], data.shop_id)
        if await db.fetchval(SQL["api_set_default"], data.shop_id) is None:
            raise NotFoundException(f"no shop {data.shop_id!r} for this user")
        return await _me(db)
