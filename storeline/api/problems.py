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


# Postgres errors by SQLSTATE, in one place. Postgres' own text names constraints, types and the
# offending input (a NUL byte, a uuid literal, a constraint name): it goes to the log, never to
# the caller, who gets the wording below. Class SL is ours (95_role_matrix.sql): those messages
# are written for the caller and never echo input, so they are passed on.
_OURS = {"SL402": 402, "SL403": 403, "SL404": 404, "SL409": 409, "SL422": 422}
_BY_SQLSTATE: dict[str, tuple[int, str]] = {
    "42501": (403, "not allowed for this user"),
    "23505": (409, "this conflicts with an existing record"),
    "23503": (422, "this refers to a record that does not exist"),
    "23502": (422, "a required value is missing"),
    "23514": (422, "a value breaks one of the rules for this record"),
    "23P01": (409, "this conflicts with an existing record"),
    "40001": (409, "the request conflicted with another one; try again"),
    "40P01": (409, "the request conflicted with another one; try again"),
    "55P03": (409, "the record is busy; try again"),
    "57014": (503, "the request took too long"),
}
# Data exceptions (class 22: out of range, malformed text, NUL bytes, bad encodings).
_DATA = (422, "a value is malformed or out of range")
# Messages for the constraints a caller can meet; any other one gets the class's wording.
_CONSTRAINTS = {
    "shops_id_check": "shop_domain must be a myshopify domain such as my-shop.myshopify.com",
    "shops_name_check": "name must be 1 to 200 characters",
    "shops_currency_check": "currency must be three capital letters (ISO 4217)",
}


def postgres_problem(exc: asyncpg.PostgresError) -> tuple[int, str] | None:
    """(status, caller-facing detail) for an error the caller caused; None for a server fault."""
    state = str(getattr(exc, "sqlstate", "") or "")
    if state in _OURS:
        return _OURS[state], str(getattr(exc, "message", "") or "")
    if state in _BY_SQLSTATE:
        status, detail = _BY_SQLSTATE[state]
        constraint = getattr(exc, "constraint_name", None)
        return status, _CONSTRAINTS.get(str(constraint), detail)
    if state.startswith("22"):
        return _DATA
    return None


def _postgres(request: Request[Any, Any, Any], exc: asyncpg.PostgresError) -> Response[Any]:
    mapped = postgres_problem(exc)
    if mapped is None:
        return _unexpected(request, exc)
    log.info(
        "api_refused_by_postgres",
        method=request.method,
        path=request.url.path,
        sqlstate=getattr(exc, "sqlstate", None),
        error=f"{type(exc).__name__}: {redact_value(str(exc))}",
    )
    return problem(*mapped)


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
