"""The embedded Postgres: several processes may start the same new data directory at once
(pytest-xdist workers, a worker and the API on a fresh machine) and all get one server."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import psycopg

from storeline import embedded

# Each child imports pgserver first, then waits for a shared moment, so the starts collide.
CHILD = """
import sys, time
from pathlib import Path
import pgserver  # noqa: F401  (the slow import happens before the barrier)
from storeline import embedded
import psycopg
at = float(sys.argv[2])
time.sleep(max(0.0, at - time.time()))
dsn = embedded.start(Path(sys.argv[1]))
with psycopg.connect(dsn) as conn:
    print(conn.execute("SELECT current_setting('data_directory')").fetchone()[0])
"""


def test_processes_starting_a_new_data_dir_at_once_share_one_server(tmp_path: Path) -> None:
    data_dir = tmp_path / "pg"
    at = time.time() + 3.0
    children = [
        subprocess.Popen(
            [sys.executable, "-c", CHILD, str(data_dir), str(at)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(3)
    ]
    results = [c.communicate(timeout=120) for c in children]
    for child, (_, err) in zip(children, results, strict=True):
        assert child.returncode == 0, err
    assert {out.strip() for out, _ in results} == {str(data_dir.resolve())}


def test_an_existing_empty_directory_is_initialised(tmp_path: Path) -> None:
    data_dir = tmp_path / "pg"
    data_dir.mkdir()
    with psycopg.connect(embedded.start(data_dir)) as conn:
        assert conn.execute("SELECT 1").fetchone() == (1,)
    assert (data_dir / "PG_VERSION").exists()
