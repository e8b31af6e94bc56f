"""The committed schema snapshot is what the migrations give (run scripts/snapshot-schema)."""

from __future__ import annotations

from tests.core.schema_snapshot import SNAPSHOT, dump


def test_the_snapshot_is_what_the_migrations_give(db_dsn: str) -> None:
    current = dump(db_dsn)
    assert SNAPSHOT.read_text() == current, (
        "storeline/core/sql/schema.sql is not the migrated schema: run scripts/snapshot-schema"
    )
