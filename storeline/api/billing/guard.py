"""402 for a sync request while the shop's agency is not paying: reads keep working, syncs wait.

An app-level guard (storeline/api/app.py) so the sync routes stay as they are; it acts only on
`POST /api/shops/{shop_id}/sync`. The verdict comes from Postgres
(storeline_private.api_shop_billing, under the caller's RLS transaction), which also refuses the
INSERT itself; a shop that is not the caller's passes through to the handler's 404.
"""

from __future__ import annotations

from typing import Any, cast

import asyncpg
from litestar.connection import ASGIConnection
from litestar.exceptions import HTTPException
from litestar.handlers.base import BaseRouteHandler

from storeline.core.rls import as_user
from storeline.core.sql import queries

SYNC_REQUEST = "/api/shops/{shop_id}/sync"


class PaymentRequired(HTTPException):
    status_code = 402


async def require_active_billing(
    connection: ASGIConnection[Any, Any, Any, Any], handler: BaseRouteHandler
) -> None:
    # The route's template, as matched (a handler's own `paths` are relative to its controller).
    template = connection.scope.get("path_template")
    if connection.scope.get("method") != "POST" or template != SYNC_REQUEST:
        return
    shop_id = str(connection.path_params.get("shop_id", ""))
    pool: asyncpg.Pool = connection.app.state.pool
    async with (
        pool.acquire() as conn,
        as_user(cast(asyncpg.Connection, conn), connection.user.claims, readonly=True) as db,
    ):
        row = await db.fetchrow(queries("app_dashboard")["api_shop_billing"], shop_id)
    if row is not None and not row["active"]:
        raise PaymentRequired(
            detail=f"the agency's subscription is {row['subscription_status']}: its shops do not "
            "sync until billing is active again (data stays readable); the agency owner can "
            "settle it through POST /api/billing/portal"
        )
