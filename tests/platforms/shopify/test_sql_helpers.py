"""The SQL helpers every staged line and warehouse row passes through: what they return for
good and malformed input, and that the planner inlines them (revision 0006: a helper that stops
being a single expression silently costs a function call per row again)."""

from __future__ import annotations

from typing import Any

import asyncpg
import orjson
import pytest


@pytest.mark.parametrize(
    ("gid", "expected"),
    [
        ("gid://shopify/Order/123", 123),
        ("gid://shopify/LineItem/9007199254740993", 9007199254740993),
        ("gid://shopify/Order/123?row=2", 123),
        ("gid://shopify/Order/", None),
        ("gid://shopify/Order/-5", None),
        ("gid://shopify/Order/12a", None),
        ("gid://shopify/Order/1234567890123456789", None),  # 19 digits: not a Shopify id
        ("123", None),
        (None, None),
    ],
)
async def test_gid_id(conn: asyncpg.Connection, gid: str | None, expected: int | None) -> None:
    assert await conn.fetchval("SELECT storeline_private.shopify_gid_id($1)", gid) == expected


@pytest.mark.parametrize(
    ("connection", "expected"),
    [
        ([{"id": 1}, {"id": 2}], [{"id": 1}, {"id": 2}]),
        ({"nodes": [{"id": 1}]}, [{"id": 1}]),
        ({"edges": [{"node": {"id": 1}}, {"node": None}]}, [{"id": 1}, None]),
        ({"edges": [], "pageInfo": {"hasNextPage": False}}, []),
        ({"edges": "broken"}, []),
        ({}, []),
        (None, []),
        (5, []),
    ],
)
async def test_nodes(conn: asyncpg.Connection, connection: Any, expected: Any) -> None:
    raw = await conn.fetchval(
        "SELECT storeline_private.shopify_nodes($1::text::jsonb)::text",
        orjson.dumps(connection).decode(),
    )
    assert orjson.loads(raw) == expected


@pytest.mark.parametrize(
    "call",
    [
        "storeline_private.shopify_gid_id(t.v)",
        "storeline_private.shopify_nodes(t.v::jsonb)",
    ],
)
async def test_helpers_are_inlined(conn: asyncpg.Connection, call: str) -> None:
    rows = await conn.fetch(
        f"EXPLAIN (VERBOSE, COSTS OFF) SELECT {call} FROM (VALUES ('[]')) AS t(v)"
    )
    plan = "\n".join(r[0] for r in rows)
    assert "storeline_private" not in plan, plan
