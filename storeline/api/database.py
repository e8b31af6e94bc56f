"""The API's connection pool and the per-request user transaction.

Every handler that reads or writes user data takes `db`: a connection inside a transaction that
runs as `authenticated` with the caller's verified claims (`storeline.core.rls.as_user`), so
Postgres RLS decides visibility. The transaction commits when the handler returns and rolls
back when it raises (Litestar throws the handler's exception into this generator).
"""

from __future__ import annotations

from collections.abc import AsyncGenerator, AsyncIterator
from contextlib import asynccontextmanager
from typing import Any, cast

import asyncpg
from litestar import Litestar, Request
from litestar.di import NamedDependency

from storeline.api.auth import User
from storeline.core import db as storeline_db
from storeline.core.rls import as_user

# What handlers declare to get the caller's RLS transaction: `db: UserDb`.
UserDb = NamedDependency[asyncpg.Connection]


def lifespan(dsn: str, *, max_size: int) -> Any:
    @asynccontextmanager
    async def pool_lifespan(app: Litestar) -> AsyncIterator[None]:
        app.state.pool = await storeline_db.create_pool(
            dsn, min_size=1, max_size=max_size, application_name="storeline-api"
        )
        try:
            yield
        finally:
            await app.state.pool.close()

    return pool_lifespan


async def provide_db(request: Request[User, str, Any]) -> AsyncGenerator[asyncpg.Connection, None]:
    pool: asyncpg.Pool = request.app.state.pool
    async with (
        pool.acquire() as conn,
        as_user(cast(asyncpg.Connection, conn), request.user.claims) as user_conn,
    ):
        yield user_conn
