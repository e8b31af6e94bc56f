"""A local BigQuery: the `bqemulator` package (DuckDB underneath) on loopback, as its own process.

`python -m sandbox.bigquery` serves an ephemeral (in-memory) emulator and prints
`bigquery http://127.0.0.1:<port>` once it accepts requests (about 1-2 s). `running_bigquery()`
starts that process, yields the endpoint and stops it. Its own process because the emulator
configures structlog and the root logger for the whole interpreter, and so it never shares a GIL
with the worker it serves.

Two patches, both inside the emulator process and nothing else: skip DuckDB's `spatial`
extension (installing it downloads from the internet and there is no build for duckdb 2.x;
GEOGRAPHY is not needed), and accept the media type `*/*` that google-cloud-bigquery gives the
data part of a small multipart upload (real BigQuery accepts it).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

PROJECT = "storeline-local"
_READY = re.compile(r"^bigquery (http://\S+)$")


def _patch() -> None:
    from bqemulator.api.routes import upload
    from bqemulator.storage import engine

    engine.DuckDBEngine._load_spatial = lambda self: None  # type: ignore[method-assign]
    permitted = tuple(upload._PERMITTED_MEDIA_CONTENT_TYPES)
    if "*/*" not in permitted:
        upload._PERMITTED_MEDIA_CONTENT_TYPES = (*permitted, "*/*")  # type: ignore[assignment]


async def _serve(project: str) -> None:
    _patch()
    from bqemulator.config import PersistenceMode, Settings
    from bqemulator.server import EmulatorServer

    server = EmulatorServer(
        Settings(
            persistence_mode=PersistenceMode.EPHEMERAL,
            rest_host="127.0.0.1",
            rest_port=0,
            grpc_host="127.0.0.1",
            grpc_port=0,
            enable_format_extensions=False,
            default_project_id=project,
            metrics_enabled=False,
            log_level="error",
        )
    )
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    await server.start()
    print(f"bigquery {server.rest_url}", flush=True)
    try:
        await stop.wait()
    finally:
        await server.stop()


@contextlib.contextmanager
def running_bigquery(project: str = PROJECT, *, timeout: float = 60.0) -> Iterator[str]:
    """Start `python -m sandbox.bigquery`; yield its REST endpoint; stop it (SIGTERM, its pid)."""
    root = Path(__file__).resolve().parent.parent
    env = {**os.environ, "PYTHONPATH": str(root)}
    proc = subprocess.Popen(  # noqa: S603 (our own module, fixed argv)
        [sys.executable, "-m", "sandbox.bigquery", "--project", project],
        cwd=root,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    try:
        assert proc.stdout is not None
        deadline = time.monotonic() + timeout
        endpoint = None
        for line in proc.stdout:
            found = _READY.match(line.strip())
            if found:
                endpoint = found.group(1)
                break
            if time.monotonic() > deadline:
                break
        if endpoint is None:
            raise RuntimeError("the BigQuery emulator did not start")
        yield endpoint
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def main(argv: list[str] | None = None) -> int:
    import argparse

    parser = argparse.ArgumentParser(prog="python -m sandbox.bigquery", description=__doc__)
    parser.add_argument("--project", default=PROJECT)
    args = parser.parse_args(argv)
    asyncio.run(_serve(args.project))
    return 0


if __name__ == "__main__":
    sys.exit(main())
