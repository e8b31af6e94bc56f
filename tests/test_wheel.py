"""The built wheel works on its own: installed into a fresh venv, away from the checkout, it
migrates a database, runs the worker and serves the API.

The fresh venv gets its third-party dependencies from the dev venv's site-packages through a
`.pth` line (a plain path: the dev venv's own `.pth` files, among them the editable install that
points at the checkout, are not processed), so nothing is downloaded. Every command runs from an
empty temporary directory, so the checkout is never on `sys.path`.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import sysconfig
import time
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx
import psycopg
import pytest
from alembic.script import ScriptDirectory

from storeline.core import migrate
from tests.core.test_migrations import schema_dump
from tests.fixtures.db import TEST_KEYS

ROOT = Path(__file__).resolve().parents[1]


@dataclass(frozen=True)
class Installed:
    wheel: Path
    venv: Path
    cwd: Path

    @property
    def bin(self) -> Path:
        return self.venv / "bin"

    def run(self, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            args, cwd=self.cwd, env=clean_env(**env), capture_output=True, text=True, timeout=120
        )

    def start(self, *args: str, **env: str) -> subprocess.Popen[str]:
        return subprocess.Popen(
            args,
            cwd=self.cwd,
            env=clean_env(**env),
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
        )


def clean_env(**extra: str) -> dict[str, str]:
    drop = {"PYTHONPATH", "PYTHONHOME", "VIRTUAL_ENV", "DATABASE_URL"}
    env = {k: v for k, v in os.environ.items() if k not in drop}
    return {**env, "STORELINE_ENCRYPTION_KEYS": TEST_KEYS, **extra}


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Installed:
    base = tmp_path_factory.mktemp("wheel")
    dist = base / "dist"
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "--no-build-isolation",
         "--disable-pip-version-check", "--wheel-dir", str(dist), str(ROOT)],
        check=True, capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    (wheel,) = dist.glob("storeline-*.whl")
    venv = base / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    purelib = "import sysconfig; print(sysconfig.get_paths()['purelib'])"
    fresh = subprocess.run(
        [str(venv / "bin" / "python"), "-c", purelib], check=True, capture_output=True, text=True
    ).stdout.strip()
    Path(fresh, "_storeline_dev_deps.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    cwd = base / "elsewhere"
    cwd.mkdir()
    # pip itself comes from the dev venv via the .pth; it installs into the fresh venv's prefix.
    subprocess.run(
        [str(venv / "bin" / "python"), "-m", "pip", "install", "--quiet", "--no-deps",
         "--no-index", "--ignore-installed", "--disable-pip-version-check", str(wheel)],
        check=True, capture_output=True, text=True, cwd=cwd, env=clean_env(), timeout=300,
    )  # fmt: skip
    return Installed(wheel=wheel, venv=venv, cwd=cwd)


def test_the_wheel_holds_one_package_with_its_sql(installed: Installed) -> None:
    names = zipfile.ZipFile(installed.wheel).namelist()
    top = {name.split("/", 1)[0] for name in names}
    assert top == {"storeline", "storeline-0.1.0.dist-info"}, top
    assert not [n for n in names if "__pycache__" in n or n.endswith(".pyc")]
    shipped = {n for n in names if n.endswith((".sql", ".graphql", ".mako"))}
    in_checkout = {
        str(p.relative_to(ROOT))
        for p in (ROOT / "storeline").rglob("*")
        if p.suffix in {".sql", ".graphql", ".mako"}
    }
    assert shipped == in_checkout
    assert "storeline/migrations/env.py" in names
    assert "storeline/migrations/versions/0001_foundation.py" in names


def test_the_checkout_is_not_on_the_installed_path(installed: Installed) -> None:
    probe = installed.run(
        str(installed.bin / "python"),
        "-c",
        "import importlib.util as u, storeline; print(storeline.__file__); "
        "print([m for m in ('api', 'worker', 'sandbox', 'demo', 'tests') if u.find_spec(m)])",
    )
    assert probe.returncode == 0, probe.stderr
    where, found = probe.stdout.splitlines()
    assert where.startswith(str(installed.venv)), where
    assert found == "[]"
    sandbox = installed.run(str(installed.bin / "storeline"), "sandbox")
    assert sandbox.returncode == 2
    assert "runs from a source checkout" in sandbox.stderr


def test_db_upgrade_from_the_wheel_gives_the_checkouts_database(
    installed: Installed, empty_db_dsn: str, db_dsn: str
) -> None:
    result = installed.run(
        str(installed.bin / "storeline"), "db", "upgrade", DATABASE_URL=empty_db_dsn
    )
    assert result.returncode == 0, result.stderr
    head = ScriptDirectory.from_config(migrate._config()).get_current_head()
    with psycopg.connect(empty_db_dsn) as conn:
        assert conn.execute("SELECT version_num FROM alembic_version").fetchone() == (head,)
    assert schema_dump(empty_db_dsn) == schema_dump(db_dsn)


def test_the_worker_runs_from_the_wheel(installed: Installed, db_dsn: str) -> None:
    helped = installed.run(str(installed.bin / "storeline"), "worker", "--help")
    assert helped.returncode == 0, helped.stderr
    assert "--slots" in helped.stdout
    worker = installed.start(
        str(installed.bin / "storeline"), "worker", "--no-scheduler", DATABASE_URL=db_dsn
    )
    with _stopped_at_exit(worker):
        deadline = time.monotonic() + 60
        while not _connected(db_dsn, "storeline-worker"):
            assert worker.poll() is None, worker.communicate()[1][-3000:]
            assert time.monotonic() < deadline, "the worker never connected"
            time.sleep(0.2)
    assert worker.returncode == 0, worker.stderr.read() if worker.stderr else ""


def test_the_api_serves_from_the_wheel(installed: Installed, db_dsn: str) -> None:
    helped = installed.run(str(installed.bin / "storeline"), "api", "--help")
    assert helped.returncode == 0, helped.stderr
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = int(probe.getsockname()[1])
    api = installed.start(
        str(installed.bin / "storeline"),
        "api",
        "--port",
        str(port),
        DATABASE_URL=db_dsn,
        STORELINE_API_JWT_SECRET="s" * 32,
    )
    with _stopped_at_exit(api):
        deadline = time.monotonic() + 60
        while True:
            assert api.poll() is None, api.communicate()[1][-3000:]
            assert time.monotonic() < deadline, "the API never answered /healthz"
            try:
                answer = httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=2)
            except httpx.TransportError:
                time.sleep(0.1)
                continue
            assert answer.status_code == 200, answer.text
            assert answer.json() == {"status": "ok"}
            break
    assert api.returncode in (0, 128 + signal.SIGTERM)


@contextmanager
def _stopped_at_exit(proc: subprocess.Popen[str]) -> Iterator[subprocess.Popen[str]]:
    """SIGTERM on leaving the block (the shutdown under test), a kill if that hangs."""
    try:
        yield proc
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=60)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def _connected(dsn: str, application_name: str) -> bool:
    with psycopg.connect(dsn) as conn:
        row = conn.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE application_name = %s "
            "AND datname = current_database()",
            (application_name,),
        ).fetchone()
    return bool(row and row[0])
