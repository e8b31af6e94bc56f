"""`POST /shops/{handle}/admin/api/{version}/graphql.json`: the Admin API endpoint of one shop.

The product's base URL for a shop is `<sandbox>/shops/<handle>` where Shopify's is
`https://<handle>.myshopify.com`; everything under it behaves like Shopify: the access-token
header, version fall-forward, calculated cost with a leaky bucket per shop, THROTTLED and
MAX_COST_EXCEEDED errors, injected faults, and bulk files at `GET /bulk-files/{name}` (no auth,
like Shopify's signed download URLs).
"""

from __future__ import annotations

import asyncio
import re
import uuid
from typing import Any

import anyio.to_thread
import orjson
from graphql import (
    DocumentNode,
    FragmentDefinitionNode,
    GraphQLError,
    OperationDefinitionNode,
    OperationType,
    execute_sync,
    parse,
    validate,
)
from litestar import Litestar, Request, Response, post
from litestar.params import FromPath

from sandbox.faults import FaultKind
from sandbox.shopify import cost, downloads, errors, resolvers
from sandbox.shopify.bulk import BulkOperations
from sandbox.world import ShopProfile, World

API_VERSION = "2026-01"
_VERSION = re.compile(r"^(\d{4})-(01|04|07|10)$")
_REQUEST_FAULTS = (
    FaultKind.THROTTLE,
    FaultKind.SERVER_ERROR,
    FaultKind.SLOW,
    FaultKind.EXPIRED_TOKEN,
    FaultKind.REVOKED_TOKEN,
    FaultKind.MALFORMED,
)


def served_version(requested: str) -> str | None:
    """Shopify serves an unsupported *past* stable version as its oldest supported one
    ("fall forward"); anything else it does not know is a 404."""
    if requested == API_VERSION:
        return API_VERSION
    if _VERSION.match(requested) and requested < API_VERSION:
        return API_VERSION
    return None


class ShopifyState:
    """Per-app state: one leaky bucket per shop and the bulk operations registry."""

    def __init__(self, world: World) -> None:
        self.world = world
        self.bulk = BulkOperations(world)
        self.buckets = {sid: cost.LeakyBucket.for_plan(s.plan) for sid, s in world.shops.items()}
        self.by_handle = {shop.handle: shop for shop in world.shops.values()}


def create_app(world: World) -> Litestar:
    state = ShopifyState(world)

    @post("/shops/{shop_handle:str}/admin/api/{version:str}/graphql.json", status_code=200)
    async def graphql_endpoint(
        request: Request[Any, Any, Any], shop_handle: FromPath[str], version: FromPath[str]
    ) -> Response[bytes]:
        served = served_version(version)
        shop = state.by_handle.get(shop_handle)
        if served is None or shop is None:
            return errors.not_found()
        headers = {"X-Shopify-API-Version": served, "X-Request-Id": str(uuid.uuid4())}
        if served != version:
            headers["X-Shopify-API-Deprecated-Reason"] = (
                "https://shopify.dev/api/usage/versioning#deprecation-practices"
            )
        if request.headers.get("x-shopify-access-token") != shop.shopify_token:
            return errors.invalid_token(headers)
        fault = world.faults.take("shopify", shop.shop_id, *_REQUEST_FAULTS)
        if fault is not None and fault.kind == FaultKind.SLOW:
            await asyncio.sleep(float(fault.params.get("seconds", 5)))
        elif fault is not None and fault.kind == FaultKind.EXPIRED_TOKEN:
            return errors.invalid_token(headers)
        elif fault is not None and fault.kind == FaultKind.REVOKED_TOKEN:
            return errors.forbidden(headers)
        elif fault is not None and fault.kind == FaultKind.SERVER_ERROR:
            return errors.server_error(int(fault.params.get("status", 503)), headers)
        body = await request.body()
        base_url = str(request.base_url).rstrip("/")
        throttle = fault is not None and fault.kind == FaultKind.THROTTLE
        status, answer = await anyio.to_thread.run_sync(
            lambda: _answer(
                state, shop, body, request.headers.get("content-type", ""), base_url, throttle
            )
        )
        content = orjson.dumps(answer)
        if fault is not None and fault.kind == FaultKind.MALFORMED:
            content = content[: max(1, len(content) // 2)]
        return Response(
            content,
            status_code=status,
            headers=headers,
            media_type="application/json; charset=utf-8",
        )

    bulk_file = downloads.bulk_file_route(state.bulk, world.faults)
    return Litestar([graphql_endpoint, bulk_file], openapi_config=None)


def _answer(
    state: ShopifyState,
    shop: ShopProfile,
    body: bytes,
    content_type: str,
    base_url: str,
    throttle: bool,
) -> tuple[int, dict[str, Any]]:
    request = _read_request(body, content_type)
    if request is None:
        return 400, {"errors": {"query": "Required parameter missing or invalid"}}
    text, variables, operation_name = request
    schema = resolvers.schema()
    try:
        document = parse(text)
    except GraphQLError as exc:
        return 200, {"errors": [exc.formatted]}
    invalid = validate(schema, document)
    if invalid:
        return 200, {"errors": [e.formatted for e in invalid]}
    operation = _operation(document, operation_name)
    if operation is None:
        return 200, {"errors": [{"message": "An operation name is required"}]}
    fragments = {
        d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)
    }
    requested = cost.requested_cost(schema, operation, fragments, variables)
    bucket = state.buckets[shop.shop_id]
    if throttle:
        bucket.drain()
    if requested > cost.MAX_QUERY_COST:
        return 200, errors.max_cost_exceeded(requested, bucket.status())
    if throttle or not bucket.try_take(requested):
        return 200, errors.throttled(requested, bucket.status())
    ctx = resolvers.Context(state.world, shop, state.bulk, base_url)
    result = execute_sync(
        schema,
        document,
        variable_values=variables,
        operation_name=operation_name,
        context_value=ctx,
        type_resolver=resolvers.type_of,
    )
    mutation = operation.operation == OperationType.MUTATION
    actual = cost.actual_cost(result.data, mutation=mutation) if result.data else 0
    bucket.give_back(requested - actual)
    answer: dict[str, Any] = {}
    if result.errors:
        answer["errors"] = [e.formatted for e in result.errors]
    answer["data"] = result.data
    extensions: dict[str, Any] = {
        "cost": {
            "requestedQueryCost": requested,
            "actualQueryCost": actual,
            "throttleStatus": bucket.status(),
        }
    }
    if ctx.warnings:
        extensions["search"] = ctx.warnings
    answer["extensions"] = extensions
    return 200, answer


def _read_request(body: bytes, content_type: str) -> tuple[str, dict[str, Any], str | None] | None:
    if content_type.startswith("application/graphql"):
        text = body.decode("utf-8", "replace")
        return (text, {}, None) if text.strip() else None
    try:
        payload = orjson.loads(body)
    except orjson.JSONDecodeError:
        return None
    if not isinstance(payload, dict) or not isinstance(payload.get("query"), str):
        return None
    variables = payload.get("variables") or {}
    if not isinstance(variables, dict):
        return None
    name = payload.get("operationName")
    return payload["query"], variables, name if isinstance(name, str) else None


def _operation(document: DocumentNode, name: str | None) -> OperationDefinitionNode | None:
    operations = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]
    if name is not None:
        return next((o for o in operations if o.name and o.name.value == name), None)
    return operations[0] if len(operations) == 1 else None
