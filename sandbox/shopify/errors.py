"""Shopify's error answers, byte for byte where the shape is known.

401 for a missing/unknown/expired token and 403 for missing scopes use REST-style
`{"errors": "[API] ..."}` bodies (the GraphQL endpoint answers auth failures that way); THROTTLED
and MAX_COST_EXCEEDED are GraphQL errors with HTTP 200 and `extensions.cost`; 5xx answers come
from Shopify's edge (JSON for 500/503, an HTML page for 502/504).
Sources: https://shopify.dev/docs/apps/build/apis/graphql-admin/rate-limits ,
https://shopify.dev/docs/api/usage/response-codes
"""

from __future__ import annotations

from typing import Any

import orjson
from litestar import Response

RATE_LIMIT_DOCS = "https://shopify.dev/api/usage/rate-limits"
_JSON = "application/json; charset=utf-8"


def _json(status: int, body: Any, headers: dict[str, str] | None = None) -> Response[bytes]:
    return Response(orjson.dumps(body), status_code=status, headers=headers or {}, media_type=_JSON)


def not_found() -> Response[bytes]:
    return _json(404, {"errors": "Not Found"})


def invalid_token(headers: dict[str, str]) -> Response[bytes]:
    body = {
        "errors": "[API] Invalid API key or access token (unrecognized login or wrong password)"
    }
    return _json(401, body, headers)


def forbidden(headers: dict[str, str]) -> Response[bytes]:
    body = {"errors": "[API] This action requires merchant approval for read_orders scope."}
    return _json(403, body, headers)


def server_error(status: int, headers: dict[str, str]) -> Response[bytes]:
    if status in (502, 504):
        title = "502 Bad Gateway" if status == 502 else "504 Gateway Time-out"
        page = f"<html><head><title>{title}</title></head><body><h1>{title}</h1></body></html>"
        return Response(page.encode(), status_code=status, headers=headers, media_type="text/html")
    message = {500: "Internal Server Error", 503: "Service Unavailable"}.get(status, "Error")
    return _json(status, {"errors": message}, headers)


def throttled(requested: int, throttle_status: dict[str, Any]) -> dict[str, Any]:
    return {
        "errors": [
            {
                "message": "Throttled",
                "extensions": {"code": "THROTTLED", "documentation": RATE_LIMIT_DOCS},
            }
        ],
        "extensions": {
            "cost": {
                "requestedQueryCost": requested,
                "actualQueryCost": None,
                "throttleStatus": throttle_status,
            }
        },
    }


def max_cost_exceeded(requested: int, throttle_status: dict[str, Any]) -> dict[str, Any]:
    message = (
        f"Query cost is {requested}, which exceeds the single query max cost limit (1000).\n\n"
        "See https://shopify.dev/concepts/about-apis/rate-limits for more information on how the\n"
        "cost of a query is calculated.\n\n"
        "To query larger amounts of data with fewer limits, bulk operations should be used "
        "instead.\nSee https://shopify.dev/tutorials/perform-bulk-operations-with-admin-api for "
        "usage details.\n"
    )
    return {
        "errors": [
            {
                "message": message,
                "extensions": {"code": "MAX_COST_EXCEEDED", "cost": requested, "maxCost": 1000},
            }
        ],
        "extensions": {
            "cost": {
                "requestedQueryCost": requested,
                "actualQueryCost": None,
                "throttleStatus": throttle_status,
            }
        },
    }
