"""Migrations equal the schema: reset-then-upgrade and upgrade-from-empty give the same database."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pgserver
import psycopg

from storeline.core import migrate

PG_DUMP = Path(pgserver.__file__).parent / "pginstall" / "bin" / "pg_dump"


def schema_dump(dsn: str) -> str:
    out = subprocess.run(
        [str(PG_DUMP), "--schema-only", "--no-owner", "--no-privileges", "--dbname", dsn],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    # pg_dump 16 writes a random \restrict token per run; it is not part of the schema.
    return "\n".join(line for line in out.splitlines() if not line.startswith("\\"))


def privileges(dsn: str) -> list[tuple[str, ...]]:
    with psycopg.connect(dsn) as conn:
        rows = conn.execute(
            """SELECT table_schema, table_name, grantee, privilege_type
               FROM information_schema.role_table_grants
               WHERE table_schema IN ('app_dashboard', 'core_warehouse', 'reporting',
                                      'staging_ingest')
               ORDER BY 1, 2, 3, 4"""
        ).fetchall()
    return [tuple(r) for r in rows]


def test_reset_equals_upgrade_from_empty(empty_db_dsn: str, db_dsn: str) -> None:
    migrate.upgrade(empty_db_dsn)
    with psycopg.connect(db_dsn, autocommit=True) as conn:
        conn.execute("INSERT INTO app_dashboard.agencies (name) VALUES ('will be dropped')")
    migrate.reset(db_dsn)

    assert schema_dump(db_dsn) == schema_dump(empty_db_dsn)
    assert privileges(db_dsn) == privileges(empty_db_dsn)
    assert "CREATE POLICY" in schema_dump(db_dsn)
    with psycopg.connect(db_dsn) as conn:
        assert conn.execute("SELECT count(*) FROM app_dashboard.agencies").fetchone() == (0,)


def test_reset_touches_nothing_but_storeline(db_dsn: str) -> None:
    with psycopg.connect(db_dsn, autocommit=True) as conn:
        conn.execute("CREATE SCHEMA client_stuff")
        conn.execute("CREATE TABLE client_stuff.keep (x int)")
        conn.execute("INSERT INTO client_stuff.keep VALUES (1)")
    migrate.reset(db_dsn)
    with psycopg.connect(db_dsn) as conn:
        assert conn.execute("SELECT x FROM client_stuff.keep").fetchall() == [(1,)]
        # The Supabase shim is left alone (on Supabase it is not ours to drop).
        assert conn.execute("SELECT to_regprocedure('auth.uid()') IS NOT NULL").fetchone() == (
            True,
        )


def test_upgrade_is_idempotent(db_dsn: str) -> None:
    before = schema_dump(db_dsn)
    migrate.upgrade(db_dsn)
    assert schema_dump(db_dsn) == before
