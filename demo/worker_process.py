"""Runs `storeline worker` as its own process, pointed at the sandbox by base URLs only."""

from __future__ import annotations

import os
import subprocess
import sys


def worker_env(urls: dict[str, str]) -> dict[str, str]:
    """How the worker finds the sandbox: base URLs, as it would find the real APIs."""
    return {
        **os.environ,
        "SHOPIFY_BASE_URL": f"{urls['shopify']}/shops/{{handle}}",
        "META_BASE_URL": urls["meta"],
        "GA4_BASE_URL": urls["ga4"],
        "GA4_TOKEN_URL": f"{urls['ga4']}/token",
        "HUBSPOT_BASE_URL": urls["hubspot"],
        "STORELINE_LOG_FORMAT": "json",
    }


def start(
    urls: dict[str, str], *, slots: int, env: dict[str, str] | None = None
) -> subprocess.Popen[bytes]:
    return subprocess.Popen(  # noqa: S603 - our own interpreter running our own CLI
        [sys.executable, "-m", "storeline.cli", "worker", "--slots", str(slots)],
        env={**worker_env(urls), **(env or {})},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def stop(process: subprocess.Popen[bytes]) -> None:
    """SIGTERM lets the worker release its jobs; a worker that hangs is killed."""
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
