"""Supabase JWT verification: only a valid, unexpired user token for our audience gets in."""

from __future__ import annotations

import json
import socket
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, HTTPServer

import httpx
import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import ec

from storeline.api.app import create_app
from storeline.api.settings import ApiSettings
from storeline.core.errors import ConfigError
from tests.api.conftest import A_OWNER, SECRET, sign


async def test_requests_without_a_valid_token_are_401_problems(api: httpx.AsyncClient) -> None:
    now = int(time.time())
    bad = {
        "no header": {},
        "not bearer": {"Authorization": f"Basic {sign(A_OWNER)}"},
        "garbage": {"Authorization": "Bearer not.a.jwt"},
        "wrong secret": {"Authorization": f"Bearer {sign(A_OWNER, secret='x' * 40)}"},
        "expired": {"Authorization": f"Bearer {sign(A_OWNER, exp=now - 120, iat=now - 4000)}"},
        "wrong audience": {"Authorization": f"Bearer {sign(A_OWNER, aud='other')}"},
        "no expiry": {"Authorization": f"Bearer {sign(A_OWNER, exp=None)}"},
        "service role": {"Authorization": f"Bearer {sign(A_OWNER, role='service_role')}"},
        "anon": {"Authorization": f"Bearer {sign(A_OWNER, role='anon')}"},
        "subject not a uuid": {"Authorization": f"Bearer {sign(A_OWNER, sub='admin')}"},
        "alg none": {
            "Authorization": "Bearer "
            + jwt.encode(
                {"sub": str(A_OWNER), "aud": "authenticated", "exp": now + 60},
                key=None,
                algorithm="none",
            )
        },
    }
    for case, headers in bad.items():
        r = await api.get("/api/shops", headers=headers)
        assert r.status_code == 401, (case, r.text)
        assert r.headers["content-type"].startswith("application/problem+json"), case
        assert r.json()["status"] == 401
        assert r.headers["www-authenticate"].startswith("Bearer")
        assert SECRET not in r.text


async def test_health_and_schema_need_no_token(api: httpx.AsyncClient) -> None:
    r = await api.get("/healthz")
    assert (r.status_code, r.json()) == (200, {"status": "ok"})
    schema = await api.get("/schema/openapi.json")
    assert schema.status_code == 200
    assert "/api/shops/{shop_id}" in schema.json()["paths"]


async def test_unknown_route_is_a_404_problem(api: httpx.AsyncClient) -> None:
    r = await api.get("/api/nothing-here", headers={"Authorization": f"Bearer {sign(A_OWNER)}"})
    assert r.status_code == 404
    assert r.headers["content-type"].startswith("application/problem+json")


def test_the_api_refuses_to_start_without_a_way_to_verify_tokens(db_dsn: str) -> None:
    with pytest.raises(ConfigError, match="SUPABASE_JWT_SECRET"):
        create_app(ApiSettings(), dsn=db_dsn)


@pytest.fixture
def jwks_server() -> Iterator[tuple[str, ec.EllipticCurvePrivateKey, str]]:
    """A loopback JWKS endpoint publishing one ES256 key, like Supabase's asymmetric keys."""
    key = ec.generate_private_key(ec.SECP256R1())
    kid = str(uuid.uuid4())
    jwk = json.loads(jwt.algorithms.ECAlgorithm.to_jwk(key.public_key()))
    body = json.dumps({"keys": [{**jwk, "kid": kid, "alg": "ES256", "use": "sig"}]}).encode()

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(200)
            self.send_header("content-type", "application/json")
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    server = HTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/auth/v1/.well-known/jwks.json", key, kid
    server.shutdown()


async def test_asymmetric_tokens_are_checked_against_the_projects_jwks(
    tenants: object,
    serve: Callable[[ApiSettings], str],
    jwks_server: tuple[str, ec.EllipticCurvePrivateKey, str],
) -> None:
    url, key, kid = jwks_server
    base = serve(ApiSettings(jwks_url=url, jwt_issuer="https://project.supabase.co/auth/v1"))
    now = int(time.time())
    claims = {
        "sub": str(A_OWNER),
        "aud": "authenticated",
        "role": "authenticated",
        "exp": now + 600,
        "iss": "https://project.supabase.co/auth/v1",
    }
    good = jwt.encode(claims, key, algorithm="ES256", headers={"kid": kid})
    other_key = ec.generate_private_key(ec.SECP256R1())
    forged = jwt.encode(claims, other_key, algorithm="ES256", headers={"kid": kid})
    wrong_issuer = jwt.encode(
        {**claims, "iss": "https://evil.test"}, key, algorithm="ES256", headers={"kid": kid}
    )
    hs256 = sign(A_OWNER)  # no shared secret configured: HS256 is not accepted
    async with httpx.AsyncClient(base_url=base, timeout=10) as client:
        r = await client.get("/api/shops", headers={"Authorization": f"Bearer {good}"})
        assert r.status_code == 200, r.text
        assert [s["id"] for s in r.json()["shops"]] == ["a1.myshopify.com", "a2.myshopify.com"]
        for bad in (forged, wrong_issuer, hs256):
            r = await client.get("/api/shops", headers={"Authorization": f"Bearer {bad}"})
            assert r.status_code == 401, r.text


async def test_an_unreachable_key_set_is_a_503_not_a_401(
    tenants: object, serve: Callable[[ApiSettings], str]
) -> None:
    # A port nothing listens on: the project's JWKS cannot be fetched.
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    base = serve(ApiSettings(jwks_url=f"http://127.0.0.1:{port}/jwks.json"))
    key = ec.generate_private_key(ec.SECP256R1())
    claims = {"sub": str(A_OWNER), "aud": "authenticated", "exp": int(time.time()) + 600}
    signed = jwt.encode(claims, key, algorithm="ES256", headers={"kid": "k"})
    async with httpx.AsyncClient(base_url=base, timeout=10) as client:
        r = await client.get("/api/shops", headers={"Authorization": f"Bearer {signed}"})
    assert r.status_code == 503, r.text
    assert r.headers["content-type"].startswith("application/problem+json")
