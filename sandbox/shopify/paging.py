"""Relay connections over Python sequences: cursors, first/after, last/before, pageInfo.

Shopify requires `first` or `last` on every connection outside bulk operations and caps both at
250; the errors below carry its wording.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from graphql import GraphQLError

from sandbox.shopify.encoding import decode_cursor, encode_cursor

MAX_PAGE = 250


def page_size(first: int | None, last: int | None) -> None:
    if first is None and last is None:
        raise GraphQLError("you must provide one of first or last")
    for name, value in (("first", first), ("last", last)):
        if value is not None and not 0 <= value <= MAX_PAGE:
            raise GraphQLError(f"The {name} argument must be between 0 and {MAX_PAGE}.")


def connection(
    items: Sequence[Any],
    key: Callable[[Any], Any],
    render: Callable[[Any], Any],
    *,
    first: int | None = None,
    after: str | None = None,
    last: int | None = None,
    before: str | None = None,
) -> dict[str, Any]:
    """A connection over items already in output order; cursors carry the item's key."""
    keys = [key(i) for i in items]
    start, stop = 0, len(items)
    if after is not None:
        k = _cursor_key(after)
        start = next((n + 1 for n, key_ in enumerate(keys) if key_ == k), len(items))
    if before is not None:
        k = _cursor_key(before)
        stop = next((n for n, key_ in enumerate(keys) if key_ == k), stop)
    window = list(range(start, max(start, stop)))
    has_next = has_previous = False
    if first is not None:
        has_next = len(window) > first
        window = window[:first]
    if last is not None:
        has_previous = len(window) > last
        window = window[len(window) - last :] if last else []
    return build([(keys[n], items[n]) for n in window], render, has_next, has_previous)


def build(
    keyed: Sequence[tuple[Any, Any]],
    render: Callable[[Any], Any],
    has_next: bool,
    has_previous: bool,
) -> dict[str, Any]:
    edges = [{"cursor": encode_cursor({"k": k}), "node": render(item)} for k, item in keyed]
    return {
        "edges": edges,
        "nodes": [e["node"] for e in edges],
        "pageInfo": {
            "hasNextPage": has_next,
            "hasPreviousPage": has_previous,
            "startCursor": edges[0]["cursor"] if edges else None,
            "endCursor": edges[-1]["cursor"] if edges else None,
        },
    }


def _cursor_key(cursor: str) -> Any:
    payload = decode_cursor(cursor)
    if payload is None or "k" not in payload:
        raise GraphQLError(f"Invalid cursor for current pagination sort: {cursor!r}")
    key = payload["k"]
    return tuple(key) if isinstance(key, list) else key


def cursor_key(cursor: str | None) -> Any:
    return None if cursor is None else _cursor_key(cursor)
