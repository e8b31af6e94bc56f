"""Runs `storeline api` as its own process and calls it the way the agency's dashboard would:
with a Supabase-style access token for the demo owner, so every figure the demo prints has gone
through JWT verification and row-level security.

The token is signed with a secret made for this run only (a real deployment verifies tokens from
its Supabase project: SUPABASE_JWT_SECRET or STORELINE_API_JWKS_URL).
"""

from __future__ import annotations

import os
import secrets
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from typing import Any

import httpx
import jwt

from demo.seeding import DEMO_OWNER


@dataclass
class ApiProcess:
    process: subprocess.Popen[bytes]
    url: str
    secret: str

    def token(self) -> str:
        now = int(time.time())
        claims = {
            "sub": str(DEMO_OWNER.id),
            "email": DEMO_OWNER.email,
            "aud": "authenticated",
            "role": "authenticated",
            "iat": now,
            "exp": now + 3600,
        }
        return jwt.encode(claims, self.secret, algorithm="HS256")

    def dev_token(self) -> str:
        """What `storeline token --user …` prints, signed with this API's secret."""
        done = subprocess.run(  # noqa: S603 - our own interpreter running our own CLI
            [sys.executable, "-m", "storeline.cli", "token", "--user", DEMO_OWNER.email],
            env={**os.environ, "STORELINE_API_JWT_SECRET": self.secret},
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        if done.returncode != 0:
            raise RuntimeError(f"storeline token failed: {done.stderr.strip()}")
        return done.stdout.strip()

    def status_with(self, token: str, path: str) -> int:
        headers = {"Authorization": f"Bearer {token}"}
        return httpx.get(f"{self.url}{path}", headers=headers, timeout=60).status_code

    def get(self, path: str, **params: str) -> Any:
        response = httpx.get(
            f"{self.url}{path}",
            params=params,
            headers={"Authorization": f"Bearer {self.token()}"},
            timeout=60,
        )
        response.raise_for_status()
        return response.json()

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()


def start(*, timeout: float = 30) -> ApiProcess:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = int(probe.getsockname()[1])
    secret = secrets.token_urlsafe(32)
    env = {**os.environ, "STORELINE_API_JWT_SECRET": secret, "STORELINE_LOG_FORMAT": "json"}
    process = subprocess.Popen(  # noqa: S603 - our own interpreter running our own CLI
        [sys.executable, "-m", "storeline.cli", "api", "--port", str(port)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    api = ApiProcess(process, f"http://127.0.0.1:{port}", secret)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"the API exited with code {process.returncode}")
        try:
            if httpx.get(f"{api.url}/healthz", timeout=2).status_code == 200:
                return api
        except httpx.TransportError:
            pass
        time.sleep(0.1)
    api.stop()
    raise RuntimeError("the API did not answer /healthz in time")
