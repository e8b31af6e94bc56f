"""The API keeps the contract its OpenAPI schema states (issue 18, item 6).

schemathesis reads the live schema over HTTP and sends every operation schema-valid and
schema-breaking requests with all of its checks: no 5xx, only documented status codes and content
types, responses matching their schemas, bad input refused and good input accepted, and another
tenant never reading what one tenant reads (two agencies' tokens, object-level authorization).
Examples are bounded and the seed fixed, so the run is deterministic and takes seconds.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import asyncpg
import httpx
import pytest

from sandbox.server import RunningSandbox
from storeline.api.settings import ApiSettings
from storeline.platforms.shopify.settings import ShopifySettings
from tests.api.conftest import A_OWNER, B_OWNER, SECRET, sign

ST = Path(sys.executable).parent / "st"
MAX_EXAMPLES = int(os.environ.get("ST_EXAMPLES", "12"))


@pytest.fixture
async def contract_api(
    tenants: asyncpg.Connection, serve: Callable[..., str], sandbox: RunningSandbox
) -> str:
    shopify = ShopifySettings(
        base_url=f"{sandbox.urls['shopify']}/shops/{{handle}}", request_timeout_seconds=5
    )
    return serve(ApiSettings(jwt_secret=SECRET), shopify=shopify)


def test_schemathesis_finds_no_failure(contract_api: str, tmp_path: Path) -> None:
    users = {"agency-a-owner": A_OWNER, "agency-b-owner": B_OWNER}
    wfc = {
        "schemaVersion": "0.2.0",
        "auth": [
            {
                "name": name,
                "fixedHeaders": [{"name": "Authorization", "value": f"Bearer {sign(user)}"}],
            }
            for name, user in users.items()
        ],
    }
    auth_file = tmp_path / "auth.json"
    auth_file.write_text(json.dumps(wfc))
    # The contract: 400 when a request breaks the schema, 422 when it is well-formed but a rule
    # refuses it (a range over 731 days, a token that does not prove the shop, secrets a
    # platform does not take): schema-valid data may meet a 422, never a 400.
    (tmp_path / "schemathesis.toml").write_text(
        "[checks.positive_data_acceptance]\n"
        'expected-statuses = ["2XX", "3XX", 401, 403, 404, 409, 422, 429]\n'
    )
    env = {**os.environ, "NO_COLOR": "1", "SCHEMATHESIS_HOOKS": ""}
    run = subprocess.run(
        [
            str(ST), "run", f"{contract_api}/schema/openapi.json",
            "--checks", "all",
            "--auth-wfc", str(auth_file),
            "--max-examples", str(MAX_EXAMPLES),
            "--seed", os.environ.get("ST_SEED", "18"),
            "--generation-database", "none",
            "--phases", "examples,coverage,fuzzing",
            "--workers", "1",
            "--request-timeout", "10",
            "--no-color",
            "--report-dir", str(tmp_path / "report"),
        ],
        capture_output=True, text=True, timeout=240, env=env, cwd=tmp_path, check=False,
    )  # fmt: skip
    assert run.returncode == 0, run.stdout[-12000:] + run.stderr[-3000:]


def test_oversized_headers_answer_a_problem(contract_api: str) -> None:
    """A header block past the limit is a 431 problem, not text/plain or a reset connection."""
    host, port = contract_api.removeprefix("http://").split(":")
    big = "x" * 70_000
    request = (
        f"GET /api/shops HTTP/1.1\r\nHost: {host}\r\nX-Big: {big}\r\nConnection: close\r\n\r\n"
    ).encode()
    with socket.create_connection((host, int(port)), timeout=10) as sock:
        sock.sendall(request)
        answer = b""
        while chunk := sock.recv(65536):
            answer += chunk
    head, _, body = answer.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 431"), answer[:300]
    assert b"content-type: application/problem+json" in head.lower(), head
    assert json.loads(body)["status"] == 431
    # Under the limit, a long token header is just a bad token.
    r = httpx.get(f"{contract_api}/api/shops", headers={"Authorization": "Bearer " + "a" * 6000})
    assert r.status_code == 401
    assert r.headers["content-type"].startswith("application/problem+json")
