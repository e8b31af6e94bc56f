"""The platform registry covers every platform, the worker's wiring reads it, and the SQL platform
list (the app_dashboard.platform domain) names the same platforms."""

from __future__ import annotations

import importlib
import re

import asyncpg
import pytest

from storeline.core.enums import Platform
from storeline.platforms import EXPORTS, PLATFORMS, SOURCES
from storeline.worker import registry


def test_every_platform_has_one_entry() -> None:
    assert set(PLATFORMS) == set(Platform)
    for platform, spec in PLATFORMS.items():
        assert spec.platform is platform
        assert all(spec.secret_sets), platform
        assert not frozenset().union(*spec.secret_sets) & spec.metadata_keys, platform
    # Export targets take no credential; every other platform is a source.
    assert set(EXPORTS) == {Platform.BIGQUERY}
    assert set(SOURCES) == set(Platform) - set(EXPORTS)


def test_each_connector_lives_in_its_platforms_folder() -> None:
    for platform, spec in PLATFORMS.items():
        if spec.connector is None:
            continue
        module, _, attr = spec.connector.partition(":")
        home = "export" if platform in EXPORTS else "platforms"
        assert module.startswith(f"storeline.{home}.{platform.lower()}."), spec.connector
        assert callable(getattr(importlib.import_module(module), attr))


def test_the_worker_runs_what_the_registry_names() -> None:
    named = {p: s.connector for p, s in PLATFORMS.items() if s.connector is not None}
    assert named == registry.CONNECTORS
    assert set(registry.load()) == set(Platform)  # every platform has its connector


async def test_the_sql_platform_domain_lists_exactly_the_registry(conn: asyncpg.Connection) -> None:
    definition = await conn.fetchval(
        "SELECT pg_get_constraintdef(oid) FROM pg_constraint "
        "WHERE contypid = 'app_dashboard.platform'::regtype"
    )
    assert set(re.findall(r"'(\w+)'", definition)) == {p.value for p in PLATFORMS}
    typed = await conn.fetch(
        "SELECT c.relname, format_type(a.atttypid, a.atttypmod) AS type "
        "FROM pg_attribute AS a JOIN pg_class AS c ON c.oid = a.attrelid "
        "JOIN pg_namespace AS n ON n.oid = c.relnamespace "
        "WHERE n.nspname = 'app_dashboard' AND c.relkind = 'r' AND a.attname = 'platform'"
    )
    by_table = {r["relname"]: r["type"] for r in typed}
    for table in ("shop_credentials", "sync_jobs", "sync_cursors"):
        assert by_table[table] == "app_dashboard.platform", table
    with pytest.raises(asyncpg.CheckViolationError):
        await conn.execute("SELECT 'NOPE'::app_dashboard.platform")
