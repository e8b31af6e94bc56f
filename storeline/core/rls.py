"""Running a user's statements under Postgres row-level security, Supabase style.

The caller's verified JWT claims are set transaction-locally together with the `authenticated`
role, exactly as PostgREST does, so nothing leaks onto a pooled connection (RESET ALL does not
reset `role`; docs/security.md). Postgres policies keyed by `user_shops` then decide visibility.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from typing import Any

import asyncpg
import orjson

from storeline.core.sql import queries

ALLOWED_ROLES = frozenset({"authenticated", "anon"})


@asynccontextmanager
async def as_user(
    conn: asyncpg.Connection, claims: Mapping[str, Any], *, readonly: bool = False
) -> AsyncIterator[asyncpg.Connection]:
    """A transaction in which every statement runs as the JWT's role with its claims."""
    role = str(claims.get("role", "authenticated"))
    if role not in ALLOWED_ROLES:
        # A service_role token must never become a BYPASSRLS session through this path.
        raise PermissionError(f"role {role!r} cannot run user queries")
    async with conn.transaction(readonly=readonly):
        await conn.execute(
            queries("app_dashboard")["set_request_identity"],
            role,
            orjson.dumps(dict(claims)).decode(),
        )
        yield conn
