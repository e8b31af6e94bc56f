"""Finding the embedded Postgres servers still running on a data directory (or under a folder)."""

from __future__ import annotations

from pathlib import Path

import psutil


def postmasters(under: Path) -> list[psutil.Process]:
    """Running Postgres servers whose data directory is `under` or inside it."""
    root = under.resolve()
    found = []
    for proc in psutil.process_iter(["name", "cmdline"]):
        cmdline: list[str] = proc.info["cmdline"] or []
        # The postmaster keeps `postgres -D <data dir> …`; its children rename themselves.
        if proc.info["name"] != "postgres" or "-D" not in cmdline[:-1]:
            continue
        data_dir = Path(cmdline[cmdline.index("-D") + 1])
        if data_dir == root or root in data_dir.parents:
            found.append(proc)
    return found
