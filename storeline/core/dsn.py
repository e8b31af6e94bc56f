"""Resolving the database to use: DATABASE_URL when set, else the embedded server."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from storeline.core import embedded
from storeline.core.settings import database_settings, path_settings


def resolve(*, keep_embedded: bool = False) -> str:
    """The admin DSN for this process (DATABASE_URL, or a started embedded Postgres).

    The embedded server stops when the last process using it exits, unless `keep_embedded`
    leaves it running until `storeline db stop`.
    """
    url = database_settings().database_url
    if url is not None:
        return url.get_secret_value()
    return embedded.start(embedded_data_dir(), keep=keep_embedded)


def embedded_data_dir() -> Path:
    """Where the embedded Postgres keeps its data (used when DATABASE_URL is unset)."""
    return path_settings().data_dir / "pg16"


def with_database(dsn: str, dbname: str) -> str:
    """The same server, another database (tests clone per-test databases this way)."""
    parts = urlsplit(dsn)
    return urlunsplit(parts._replace(path=f"/{dbname}"))


def is_local(dsn: str) -> bool:
    """Local means a unix socket or loopback host: `db reset` asks for --yes anywhere else."""
    parts = urlsplit(dsn)
    query = dict(parse_qsl(parts.query))
    host = query.get("host") or parts.hostname or ""
    return host.startswith("/") or host in ("localhost", "127.0.0.1", "::1")


def redact(dsn: str) -> str:
    """The DSN with its password removed, for logs and error messages."""
    parts = urlsplit(dsn)
    netloc = parts.netloc
    if parts.password is not None:
        netloc = netloc.replace(f":{parts.password}@", ":***@")
    query = urlencode([(k, "***" if k == "password" else v) for k, v in parse_qsl(parts.query)])
    return urlunsplit(parts._replace(netloc=netloc, query=query))


def sqlalchemy_url(dsn: str) -> str:
    """Alembic runs on SQLAlchemy + psycopg 3; the URL scheme names the driver."""
    parts = urlsplit(dsn)
    return urlunsplit(parts._replace(scheme="postgresql+psycopg"))
