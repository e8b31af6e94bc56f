"""The embedded Postgres (pgserver, PG 16) used when DATABASE_URL is unset.

The data directory lives under the user's data dir and is reused across runs; pgserver reference-
counts the processes using it and stops the server when the last one exits.
"""

from __future__ import annotations

import warnings
from pathlib import Path
from typing import Any

from storeline.errors import ConfigError

_servers: dict[Path, Any] = {}


def start(data_dir: Path) -> str:
    """Start (or attach to) the embedded server in `data_dir` and return a libpq URI for it."""
    with warnings.catch_warnings():  # platformdirs warns about XDG_RUNTIME_DIR on servers
        warnings.simplefilter("ignore")
        import pgserver  # heavy import, only needed when no DATABASE_URL is set

    data_dir = data_dir.resolve()
    if data_dir not in _servers:
        # Created here, not by pgserver: it checks-then-creates the directory outside its lock,
        # so two processes starting a new data dir at once (pytest-xdist workers, a worker and
        # the API) made the second fail with FileExistsError. initdb and start are locked.
        data_dir.mkdir(parents=True, exist_ok=True)
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                _servers[data_dir] = pgserver.get_server(data_dir, cleanup_mode="stop")
        except Exception as exc:  # pgserver raises bare Exceptions with the initdb/pg_ctl log
            raise ConfigError(
                f"could not start the embedded Postgres in {data_dir}: {exc}"
            ) from exc
    return str(_servers[data_dir].get_uri())


def is_embedded(dsn: str) -> bool:
    """An embedded server is reached over a unix socket in one of our data directories."""
    return "host=/" in dsn and any(str(p) in dsn for p in _servers)
