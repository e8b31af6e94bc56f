"""Liveness for load balancers: the process answers and the database does too."""

from __future__ import annotations

from typing import Any

import asyncpg
from litestar import Request, Response, get

from storeline.api.openapi import problems
from storeline.api.problems import problem


@get("/healthz", tags=["health"], exclude_from_auth=True, responses=problems(503, auth=False))
async def healthz(request: Request[Any, Any, Any]) -> Response[dict[str, Any]]:
    pool: asyncpg.Pool = request.app.state.pool
    try:
        await pool.fetchval("SELECT 1", timeout=2)
    except (OSError, TimeoutError, asyncpg.PostgresError, asyncpg.InterfaceError):
        return problem(503, "the database is not answering")
    return Response({"status": "ok"})
