"""The embedded Postgres: several processes may start the same new data directory at once
(pytest-xdist workers, a worker and the API on a fresh machine) and all get one server; the server
stops when the last process using it exits, however the others ended, unless it is kept."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import psycopg
import pytest

from storeline.core import embedded
from tests.postmasters import postmasters

# Each child imports pgserver first, then waits for a shared moment, so the starts collide.
CHILD = """
import sys, time
from pathlib import Path
import pgserver  # noqa: F401  (the slow import happens before the barrier)
from storeline.core import embedded
import psycopg
at = float(sys.argv[2])
time.sleep(max(0.0, at - time.time()))
dsn = embedded.start(Path(sys.argv[1]))
with psycopg.connect(dsn) as conn:
    print(conn.execute("SELECT current_setting('data_directory')").fetchone()[0])
"""

# Starts (or attaches to) the server, says so, and uses it until its stdin closes.
HOLD = """
import sys
from pathlib import Path
from storeline.core import embedded
if sys.argv[2] == "keep":
    embedded.start(Path(sys.argv[1]), keep=True)
else:
    embedded.start(Path(sys.argv[1]))
print("attached", flush=True)
sys.stdin.read()
"""


def start_at_once(data_dir: Path, count: int, prefix: list[str] | None = None) -> list[str]:
    """`count` processes start `data_dir` at the same moment; each one's data_directory."""
    at = time.time() + 4.0
    children = [
        subprocess.Popen(
            [*(prefix or []), sys.executable, "-c", CHILD, str(data_dir), str(at)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(count)
    ]
    results = [c.communicate(timeout=120) for c in children]
    for child, (_, err) in zip(children, results, strict=True):
        assert child.returncode == 0, err[-3000:]
    return [out.strip() for out, _ in results]


def hold(data_dir: Path, *, keep: bool = False) -> subprocess.Popen[str]:
    child = subprocess.Popen(
        [sys.executable, "-c", HOLD, str(data_dir), "keep" if keep else "-"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert child.stdout is not None
    assert child.stdout.readline().strip() == "attached"
    return child


def storeline(*args: str, data_dir: Path, **kw: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
    return subprocess.run(
        [sys.executable, "-m", "storeline.cli", *args],
        capture_output=True,
        text=True,
        env={**env, "STORELINE_DATA_DIR": str(data_dir), **kw},
        timeout=60,
        check=False,
    )


def test_processes_starting_a_new_data_dir_at_once_share_one_server(tmp_path: Path) -> None:
    data_dir = tmp_path / "pg"
    assert set(start_at_once(data_dir, 3)) == {str(data_dir.resolve())}
    assert not postmasters(data_dir), "the last process to exit stops the server"


def _private_etc_without_pgserver(tmp_path: Path) -> list[str]:
    """A command prefix that runs its command with /etc replaced by a copy lacking the
    `pgserver` system user: every child shares the copy, so their first starts create the user
    between them exactly as on a fresh machine, without touching the machine's own users."""
    if os.geteuid() != 0:
        pytest.skip("only a start as root creates pgserver's system user")
    if shutil.which("unshare") is None:
        pytest.skip("needs unshare(1) to give the children their own /etc")
    etc = tmp_path / "etc"
    subprocess.run(["cp", "-a", "/etc", str(etc)], check=True)
    for name in ("passwd", "shadow", "group", "gshadow"):
        path = etc / name
        if path.exists():
            lines = path.read_text().splitlines(keepends=True)
            path.write_text("".join(x for x in lines if not x.startswith("pgserver:")))
    prefix = ["unshare", "--mount", "sh", "-c", 'mount --bind "$0" /etc && exec "$@"', str(etc)]
    probe = subprocess.run([*prefix, "true"], capture_output=True, text=True, check=False)
    if probe.returncode != 0:
        pytest.skip(f"cannot bind-mount a private /etc: {probe.stderr.strip()}")
    return prefix


def test_the_first_start_on_a_machine_is_safe_from_several_processes(tmp_path: Path) -> None:
    """As root, the first start creates pgserver's system user; four processes doing that at
    once created it twice (two uids) and one failed in initdb, unable to chmod its data dir."""
    prefix = _private_etc_without_pgserver(tmp_path)
    data_dir = tmp_path / "pg"
    assert set(start_at_once(data_dir, 4, prefix)) == {str(data_dir.resolve())}
    users = [x for x in (tmp_path / "etc" / "passwd").read_text().splitlines() if "pgserver:" in x]
    assert len(users) == 1, users
    assert data_dir.stat().st_uid == int(users[0].split(":")[2])
    assert not postmasters(data_dir)


def test_a_killed_process_does_not_keep_the_server_running(tmp_path: Path) -> None:
    data_dir = tmp_path / "pg"
    survivor, killed = hold(data_dir), hold(data_dir)
    killed.kill()  # no exit handler runs: it stays listed as a user of the server
    killed.wait()
    assert postmasters(data_dir)
    survivor.communicate(timeout=60)
    assert survivor.returncode == 0
    assert not postmasters(data_dir)


def test_storeline_api_ended_by_sigterm_stops_its_postgres(tmp_path: Path) -> None:
    """uvicorn re-raises the SIGTERM it caught once it has shut down; that must still run the
    exit handlers that stop the embedded server."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = int(probe.getsockname()[1])
    env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
    api = subprocess.Popen(
        [sys.executable, "-m", "storeline.cli", "api", "--port", str(port)],
        env={**env, "STORELINE_DATA_DIR": str(tmp_path), "STORELINE_API_JWT_SECRET": "s" * 32},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    deadline = time.monotonic() + 60
    while True:
        assert api.poll() is None, api.communicate()[1][-3000:]
        assert time.monotonic() < deadline, "the API never answered /healthz"
        try:
            if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=2).status_code == 200:
                break
        except httpx.TransportError:
            time.sleep(0.1)
    assert postmasters(tmp_path / "pg16")
    api.send_signal(signal.SIGTERM)
    api.communicate(timeout=60)
    assert api.returncode == 128 + signal.SIGTERM
    assert not postmasters(tmp_path / "pg16")


def test_a_kept_server_runs_until_db_stop(tmp_path: Path) -> None:
    data_dir = tmp_path / "pg16"  # where `storeline` looks under STORELINE_DATA_DIR
    hold(data_dir, keep=True).communicate(timeout=60)
    assert postmasters(data_dir), "kept after its only user exited"

    # `db stop` leaves a server that a live process uses; it stops when that one exits.
    user = hold(data_dir)
    refused = storeline("db", "stop", data_dir=tmp_path)
    assert refused.returncode == 1
    assert f"in use by process {user.pid}" in refused.stderr
    assert postmasters(data_dir)
    user.communicate(timeout=60)
    assert not postmasters(data_dir)

    hold(data_dir, keep=True).communicate(timeout=60)
    stopped = storeline("db", "stop", data_dir=tmp_path)
    assert stopped.returncode == 0, stopped.stderr
    assert "stopped the embedded Postgres" in stopped.stdout
    assert not postmasters(data_dir)
    again = storeline("db", "stop", data_dir=tmp_path)
    assert again.returncode == 0, again.stderr
    assert "no embedded Postgres is running" in again.stdout


def test_db_stop_refuses_a_database_url(tmp_path: Path) -> None:
    result = storeline(
        "db", "stop", data_dir=tmp_path, DATABASE_URL="postgresql://u@db.example:5432/x"
    )
    assert result.returncode == 2
    assert "only the embedded Postgres" in result.stderr


def test_an_existing_empty_directory_is_initialised(tmp_path: Path) -> None:
    data_dir = tmp_path / "pg"
    data_dir.mkdir()
    with psycopg.connect(embedded.start(data_dir)) as conn:
        assert conn.execute("SELECT 1").fetchone() == (1,)
    assert (data_dir / "PG_VERSION").exists()
    embedded.release(data_dir)
    assert not postmasters(data_dir)
