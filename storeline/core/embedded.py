"""The embedded Postgres (pgserver, PG 16) used when DATABASE_URL is unset.

The data directory lives under the user's data dir and is reused across runs. Every process that
starts or attaches to a server is listed in the data dir (pgserver's `.handle_pids.json`); the
last one to exit stops the server, so every command stops the Postgres it started. What this
module adds to pgserver:

- one machine-wide lock around the whole start, so several processes can start at once on a
  fresh machine (see `_start_lock`);
- at exit, listed processes that are gone (killed, or ended by a re-raised SIGTERM, which runs no
  exit handler) no longer count, so they cannot keep a server running for ever;
- `keep=True` (`storeline demo --keep`) leaves the server running until `stop()`
  (`storeline db stop`).
"""

from __future__ import annotations

import atexit
import contextlib
import os
import subprocess
import sys
import warnings
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import psutil

from storeline.core.errors import ConfigError, StorelineError

if sys.platform != "win32":
    import fcntl

# In the data dir: the server was asked to outlive the processes using it.
KEEP_MARKER = "storeline-keep"

_servers: dict[Path, Any] = {}


class InUseError(StorelineError):
    """`stop()` was asked to stop a server that live processes still use."""


def _pgserver() -> ModuleType:
    with warnings.catch_warnings():  # platformdirs warns about XDG_RUNTIME_DIR on servers
        warnings.simplefilter("ignore")
        import pgserver  # heavy import, only needed when no DATABASE_URL is set
    return pgserver


@contextlib.contextmanager
def _start_lock(pgserver: ModuleType) -> Iterator[None]:
    """One start at a time on this machine, from looking up pgserver's system user to ready.

    Running as root, pgserver runs Postgres as a `pgserver` system user, created with `useradd`
    on the first start, and it does so before taking its own lock. Processes starting at once on
    a fresh machine each ran useradd; the user was created twice with two uids, so one process
    chowned its data dir to the first uid and ran initdb as the second ("initdb: could not change
    permissions of directory …: Operation not permitted"). pgserver also checks-then-creates the
    data dir outside its lock. Holding this lock across all of it serialises both. The file sits
    next to pgserver's own lock file, in the runtime directory that every process sharing a
    server already shares.
    """
    if sys.platform == "win32":  # pgserver creates no user there; its own lock covers initdb
        yield
        return
    runtime = Path(pgserver.PostgresServer.runtime_path)
    runtime.mkdir(parents=True, exist_ok=True)
    with (runtime / "storeline-start.lock").open("a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def start(data_dir: Path, *, keep: bool = False) -> str:
    """Start (or attach to) the embedded server in `data_dir` and return a libpq URI for it.

    It stops when the last process using it exits, unless `keep` asks it to run until `stop()`.
    """
    pgserver = _pgserver()
    data_dir = data_dir.resolve()
    if data_dir not in _servers:
        try:
            with _start_lock(pgserver):
                data_dir.mkdir(parents=True, exist_ok=True)  # pgserver makes only the last part
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    # cleanup_mode=None: pgserver's exit handler only unlists this process;
                    # release() decides whether the server stops.
                    _servers[data_dir] = pgserver.get_server(data_dir, cleanup_mode=None)
        except Exception as exc:  # pgserver raises bare Exceptions with the initdb/pg_ctl log
            raise ConfigError(
                f"could not start the embedded Postgres in {data_dir}: {exc}"
            ) from exc
        atexit.register(release, data_dir)
    if keep:
        (data_dir / KEEP_MARKER).touch()
    return str(_servers[data_dir].get_uri())


def release(data_dir: Path) -> None:
    """This process is done with the server; the last live user stops it unless it is kept.

    Runs at exit for every server `start` returned; tests call it to stop a server early.
    """
    data_dir = data_dir.resolve()
    server = _servers.pop(data_dir, None)
    if server is None or not data_dir.exists():  # never started here, or already removed
        return
    pgserver = _pgserver()
    # A later start() in this process must attach again, not reuse pgserver's cached handle.
    pgserver.PostgresServer._instances.pop(data_dir, None)
    with pgserver.PostgresServer._lock:  # the lock pgserver lists and unlists processes under
        if not _live_users(pgserver, data_dir) and not (data_dir / KEEP_MARKER).exists():
            _stop_postmaster(pgserver, data_dir)


def release_all() -> None:
    """`release` every server this process started (what its exit does)."""
    for data_dir in list(_servers):
        release(data_dir)


def stop(data_dir: Path) -> bool:
    """Stop the server in `data_dir` (`storeline db stop`); False if none was running.

    A server that live processes still use is not stopped: it is no longer kept, so it stops
    when the last of them exits, and `InUseError` names them.
    """
    pgserver = _pgserver()
    data_dir = data_dir.resolve()
    (data_dir / KEEP_MARKER).unlink(missing_ok=True)
    if not _postmaster_running(pgserver, data_dir):
        return False
    with _start_lock(pgserver), pgserver.PostgresServer._lock:
        users = _live_users(pgserver, data_dir)
        if users:
            listed = ", ".join(str(pid) for pid in users)
            raise InUseError(
                f"the embedded Postgres in {data_dir} is in use by process {listed}; "
                "it stops when they exit"
            )
        _stop_postmaster(pgserver, data_dir)
    return True


def _live_users(pgserver: ModuleType, data_dir: Path) -> list[int]:
    """The other live processes listed as using the server; unlists this one and the dead.

    Call with pgserver's lock held.
    """
    handles = pgserver.utils.DiskList(data_dir / ".handle_pids.json")
    me = os.getpid()
    users = [pid for pid in handles.get() if pid != me and _alive(pid)]
    handles.put(users)
    return users


def _alive(pid: int) -> bool:
    try:
        return psutil.Process(pid).status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False


def _postmaster_running(pgserver: ModuleType, data_dir: Path) -> bool:
    info = pgserver.utils.PostmasterInfo.read_from_pgdata(data_dir)
    return info is not None and bool(info.is_running())


def _stop_postmaster(pgserver: ModuleType, data_dir: Path) -> None:
    if not _postmaster_running(pgserver, data_dir):
        return
    # pg_ctl runs as the data dir's owner: pgserver's system user when we are root.
    user = data_dir.stat().st_uid if os.geteuid() == 0 else None
    try:
        pgserver.pg_ctl(["-w", "-m", "fast", "stop"], pgdata=data_dir, user=user)
    except subprocess.CalledProcessError:
        if _postmaster_running(pgserver, data_dir):
            raise


def is_embedded(dsn: str) -> bool:
    """An embedded server is reached over a unix socket in one of our data directories."""
    return "host=/" in dsn and any(str(p) in dsn for p in _servers)
