"""Errors as RFC 9457 problem+json: the caller's mistakes are 4xx with a reason, anything else is
a bare 500 whose details stay in the log (never a stack, a query or a secret in a response)."""

from __future__ import annotations

from http import HTTPStatus
from typing import Any

import asyncpg
from litestar import Request, Response
from litestar.exceptions import HTTPException, ValidationException
from litestar.types import ExceptionHandlersMap

from storeline.core.logs import get_logger, redact_value

MEDIA_TYPE = "application/problem+json"
log = get_logger("api")


def problem(status: int, detail: str | None = None, **extra: Any) -> Response[dict[str, Any]]:
    body: dict[str, Any] = {
        "type": "about:blank",
        "title": HTTPStatus(status).phrase,
        "status": status,
    }
    if detail:
        body["detail"] = str(redact_value(detail))
    body.update(extra)
    return Response(body, status_code=status, media_type=MEDIA_TYPE)


def _http(request: Request[Any, Any, Any], exc: HTTPException) -> Response[dict[str, Any]]:
    extra: dict[str, Any] = {}
    if isinstance(exc, ValidationException) and exc.extra:
        extra["errors"] = exc.extra
    response = problem(exc.status_code, exc.detail or None, **extra)
    if exc.headers:
        response.headers.update(exc.headers)
    if exc.status_code == 401:
        response.headers["WWW-Authenticate"] = 'Bearer realm="storeline"'
    return response


# Constraint failures are the caller's input meeting a rule Postgres enforces; RLS refusals are a
# row the caller may not write. Both are 4xx; the constraint's own message says which rule.
_POSTGRES_STATUS: list[tuple[type[asyncpg.PostgresError], int]] = [
    (asyncpg.InsufficientPrivilegeError, 403),
    (asyncpg.UniqueViolationError, 409),
    (asyncpg.CheckViolationError, 422),
    (asyncpg.ForeignKeyViolationError, 422),
    (asyncpg.NotNullViolationError, 422),
    (asyncpg.DataError, 422),
    (asyncpg.RaiseError, 422),  # our triggers' RAISE EXCEPTION (e.g. an unknown time zone)
]


def _postgres(request: Request[Any, Any, Any], exc: asyncpg.PostgresError) -> Response[Any]:
    for kind, status in _POSTGRES_STATUS:
        if isinstance(exc, kind):
            detail = exc.message if status != 403 else "not allowed for this user"
            return problem(status, detail)
    return _unexpected(request, exc)


def _unexpected(request: Request[Any, Any, Any], exc: Exception) -> Response[Any]:
    log.error(
        "api_unhandled_error",
        method=request.method,
        path=request.url.path,
        error=f"{type(exc).__name__}: {redact_value(str(exc))}",
    )
    return problem(500, "the server could not complete the request")


HANDLERS: ExceptionHandlersMap = {
    HTTPException: _http,
    asyncpg.PostgresError: _postgres,
    Exception: _unexpected,
}
