"""JSON request bodies with bounded nesting, so a hostile body is a 400, never a 500.

msgspec raises RecursionError at about 1,000 levels, and what decodes can still be too deep for
the jsonb encoder (orjson stops at 255). No body of this API needs more than a few levels.
"""

from __future__ import annotations

from typing import Any

from litestar import Request
from litestar.exceptions import ClientException

MAX_JSON_DEPTH = 32


def json_depth_exceeds(value: Any, limit: int = MAX_JSON_DEPTH) -> bool:
    """Iterative, so measuring a deep value cannot itself overflow the stack."""
    stack: list[tuple[Any, int]] = [(value, 0)]
    while stack:
        node, depth = stack.pop()
        if depth > limit:
            return True
        if isinstance(node, dict):
            stack.extend((v, depth + 1) for v in node.values())
        elif isinstance(node, list):
            stack.extend((v, depth + 1) for v in node)
    return False


class BoundedJsonRequest(Request[Any, Any, Any]):
    async def json(self) -> Any:
        try:
            value = await super().json()
        except RecursionError:
            raise ClientException(_too_deep()) from None
        if json_depth_exceeds(value):
            raise ClientException(_too_deep())
        return value


def _too_deep() -> str:
    return f"the JSON body is nested more than {MAX_JSON_DEPTH} levels deep"
