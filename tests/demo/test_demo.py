"""`./scripts/demo` as a new user runs it: a fresh data dir, then a rerun that continues; each
stops the Postgres it started unless asked to keep it."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from tests.postmasters import postmasters


def demo_env(data_dir: Path) -> dict[str, str]:
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in ("DATABASE_URL", "STORELINE_ENCRYPTION_KEYS")
    }
    env.update({"STORELINE_DATA_DIR": str(data_dir), "COLUMNS": "200"})
    return env


def run_demo(data_dir: Path, *flags: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "demo", "--size", "tiny", "--timeout", "180", *flags],
        capture_output=True,
        text=True,
        env=demo_env(data_dir),
        timeout=240,
        check=False,
    )


def test_demo_backfills_then_reruns_incrementally(tmp_path: Path) -> None:
    first = run_demo(tmp_path / "data")
    assert first.returncode == 0, first.stdout[-3000:] + first.stderr[-3000:]
    assert "12 backfills queued" in first.stdout  # Shopify, Meta, GA4, HubSpot for 3 shops
    assert first.stdout.count("30/30 days equal") == 3
    assert "Meta Ads spend, MER and ROAS" in first.stdout
    assert "GA4 traffic" in first.stdout
    assert "HubSpot pipeline" in first.stdout
    assert "✗" not in first.stdout
    # The figures came through the HTTP API (JWT, RLS), not straight from the database.
    assert "Storeline's API vs" in first.stdout
    assert "backfill" in first.stdout
    assert "SUCCEEDED" in first.stdout
    assert "curl -H 'Authorization: Bearer ey" in first.stdout
    assert "HTTP 200 (the demo ran that request)" in first.stdout
    # The key the demo made for itself stays in the data dir, never in the output.
    key = (tmp_path / "data" / "demo-encryption-key").read_text().strip()
    assert key.split(":", 1)[1] not in first.stdout + first.stderr
    # The demo, its worker and its API are gone, and so is the Postgres they used.
    assert not postmasters(tmp_path / "data")

    # The rerun also mirrors the shops into the BigQuery emulator and reads a figure back.
    again = run_demo(tmp_path / "data", "--keep", "--bigquery")
    assert again.returncode == 0, again.stdout[-3000:] + again.stderr[-3000:]
    assert "incremental syncs queued" in again.stdout
    assert again.stdout.count("30/30 days equal") == 3
    assert "read back from BigQuery" in again.stdout
    assert again.stdout.count("storeline_") >= 3  # one dataset per shop
    assert "✗" not in again.stdout
    # --keep leaves it running for psql; `storeline db stop` (as the README says) stops it.
    assert "storeline db stop" in again.stdout
    assert postmasters(tmp_path / "data")
    stop = subprocess.run(
        [sys.executable, "-m", "storeline.cli", "db", "stop"],
        capture_output=True,
        text=True,
        env=demo_env(tmp_path / "data"),
        timeout=60,
        check=False,
    )
    assert stop.returncode == 0, stop.stderr
    assert not postmasters(tmp_path / "data")
