"""asyncpg pools. JSON/JSONB come back as Python objects (orjson), numerics as Decimal.

Pools never carry session state (no SET, no session advisory locks), so they stay correct behind
Supabase's pooler; see docs/job-engine.md D4.
"""

from __future__ import annotations

from typing import Any

import asyncpg
import orjson

from storeline.core.settings import database_settings


def _dumps(value: Any) -> str:
    return orjson.dumps(value).decode()


async def _init(conn: asyncpg.Connection) -> None:
    for name in ("json", "jsonb"):
        await conn.set_type_codec(name, encoder=_dumps, decoder=orjson.loads, schema="pg_catalog")


async def connect(dsn: str) -> asyncpg.Connection:
    """One connection with the same codecs as the pool (LISTEN, migrations helpers, tests)."""
    conn = await asyncpg.connect(dsn, statement_cache_size=database_settings().statement_cache_size)
    await _init(conn)
    return conn


async def create_pool(
    dsn: str,
    *,
    min_size: int | None = None,
    max_size: int | None = None,
    command_timeout: float | None = None,
    application_name: str = "storeline",
) -> asyncpg.Pool:
    """`command_timeout` overrides the setting for pools whose statements are legitimately long
    (a big shop's set-based transform), so short-statement pools keep the tight default.
    `application_name` shows in pg_stat_activity which process (and pool) a backend serves."""
    s = database_settings()
    pool = await asyncpg.create_pool(
        dsn,
        min_size=s.pool_min_size if min_size is None else min_size,
        max_size=s.pool_max_size if max_size is None else max_size,
        statement_cache_size=s.statement_cache_size,
        command_timeout=command_timeout or s.command_timeout_seconds,
        max_inactive_connection_lifetime=300,
        init=_init,
        server_settings={"application_name": application_name},
    )
    assert pool is not None
    return pool
