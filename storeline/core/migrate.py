"""Schema migrations: Alembic revisions (`storeline/migrations/`) apply `.sql` files in order.

Both are package data: revisions name their files relative to the `storeline` package and read
them with `importlib.resources`, so an installed wheel migrates exactly as a checkout does.

`reset` drops every Storeline schema (and nothing else) and upgrades from empty, so a reset
database and a freshly upgraded one are the same database (tests/core/test_migrations.py proves it).
"""

from __future__ import annotations

from alembic import command, op
from alembic.config import Config
from sqlalchemy import create_engine, pool

from storeline.core.dsn import sqlalchemy_url
from storeline.core.sql import resource

SCRIPT_LOCATION = "storeline:migrations"
STORELINE_SCHEMAS = (
    "reporting",
    "core_warehouse",
    "staging_ingest",
    "app_dashboard",
    "storeline_private",
)


def read_sql(relative_path: str) -> str:
    """A shipped SQL file by its path inside the `storeline` package."""
    return resource("storeline", *relative_path.split("/")).read_text(encoding="utf-8")


def apply_files(*relative_paths: str) -> None:
    """Run SQL files (paths inside the `storeline` package) in the current revision's transaction
    (psycopg's simple protocol takes a whole multi-statement file when no parameters are passed)."""
    raw = op.get_bind().connection.driver_connection
    assert raw is not None
    for rel in relative_paths:
        raw.execute(read_sql(rel))


def _config() -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", SCRIPT_LOCATION)
    return cfg


def upgrade(dsn: str, revision: str = "head") -> None:
    engine = create_engine(sqlalchemy_url(dsn), poolclass=pool.NullPool)
    with engine.begin() as conn:
        cfg = _config()
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, revision)
    engine.dispose()


def drop_all(dsn: str) -> None:
    """Drop every Storeline schema and Alembic's bookkeeping; roles and auth.* are left alone."""
    engine = create_engine(sqlalchemy_url(dsn), poolclass=pool.NullPool)
    with engine.begin() as conn:
        raw = conn.connection.driver_connection
        assert raw is not None
        for schema in STORELINE_SCHEMAS:
            raw.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
        raw.execute("DROP TABLE IF EXISTS public.alembic_version")
    engine.dispose()


def reset(dsn: str) -> None:
    drop_all(dsn)
    upgrade(dsn)
