"""Named queries are parsed from .sql files; every block of every schema loads."""

from __future__ import annotations

import pytest

from storeline.core.sql import package_queries, parse, queries, resource


def test_parse_blocks() -> None:
    text = "-- name: one\nSELECT 1;\n\n-- name: two\n-- a comment\nSELECT 2\n"
    assert parse(text) == {"one": "SELECT 1", "two": "-- a comment\nSELECT 2"}


def test_duplicate_names_are_errors() -> None:
    with pytest.raises(ValueError, match="defined twice"):
        parse("-- name: a\nSELECT 1\n-- name: a\nSELECT 2")


def test_every_schema_loads() -> None:
    for schema_dir in resource("storeline.core.sql").iterdir():
        if (schema_dir / "queries").is_dir():
            assert queries(schema_dir.name), schema_dir
    assert "enqueue_job" in queries("app_dashboard")


@pytest.mark.parametrize("platform", ["shopify", "meta"])
def test_every_platform_query_loads(platform: str) -> None:
    assert package_queries(f"storeline.platforms.{platform}.sql")
