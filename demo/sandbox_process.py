"""Runs the sandbox as its own process, so the worker reaches it over real HTTP only."""

from __future__ import annotations

import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import httpx

PLATFORMS = ("shopify", "meta", "ga4", "hubspot", "admin")


def _free_port_base(count: int) -> int:
    """A base port with `count` free ports above it (checked, not reserved)."""
    for _ in range(50):
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            base = int(probe.getsockname()[1])
        if base + count > 65535:
            continue
        try:
            for offset in range(count):
                with socket.socket() as s:
                    s.bind(("127.0.0.1", base + offset))
        except OSError:
            continue
        return base
    raise RuntimeError("no free loopback ports for the sandbox")


@dataclass
class SandboxProcess:
    process: subprocess.Popen[bytes]
    urls: dict[str, str]

    def admin(self, method: str, path: str, **kwargs: Any) -> Any:
        response = httpx.request(method, f"{self.urls['admin']}{path}", timeout=60, **kwargs)
        response.raise_for_status()
        return response.json()

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()


def start(*, size: str, anchor: datetime, seed: int = 7) -> SandboxProcess:
    base = _free_port_base(len(PLATFORMS))
    process = subprocess.Popen(  # noqa: S603 - our own interpreter running our own module
        [
            sys.executable,
            "-m",
            "sandbox",
            "--seed",
            str(seed),
            "--size",
            size,
            "--anchor",
            anchor.isoformat(),
            "--port-base",
            str(base),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    urls = {name: f"http://127.0.0.1:{base + i}" for i, name in enumerate(PLATFORMS)}
    sandbox = SandboxProcess(process, urls)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            err = process.stderr.read().decode() if process.stderr else ""
            raise RuntimeError(f"the sandbox exited early: {err.strip()[-500:]}")
        try:
            sandbox.admin("GET", "/_sandbox/clock")
            return sandbox
        except httpx.HTTPError:
            time.sleep(0.2)
    sandbox.stop()
    raise RuntimeError("the sandbox did not answer within 60 s")
