"""`storeline token`: a development token the API accepts, refused when the API trusts a JWKS."""

from __future__ import annotations

from collections.abc import Callable

import asyncpg
import httpx

from storeline.api.settings import ApiSettings
from tests.api.conftest import SECRET
from tests.core.test_cli import storeline


async def test_a_dev_token_calls_the_api_and_is_refused_with_a_jwks(
    tenants: asyncpg.Connection, db_dsn: str, serve: Callable[[ApiSettings], str]
) -> None:
    env = {"DATABASE_URL": db_dsn, "STORELINE_API_JWT_SECRET": SECRET}
    done = storeline("token", "--user", "A@a.test", "--ttl", "120", env=env)
    assert done.returncode == 0, done.stderr
    token = done.stdout.strip()
    url = serve(ApiSettings(jwt_secret=SECRET))
    async with httpx.AsyncClient(base_url=url, timeout=10) as client:
        r = await client.get("/api/me", headers={"Authorization": f"Bearer {token}"})
    assert r.status_code == 200, r.text
    assert r.json()["email"] == "a@a.test"

    jwks = {
        **env,
        "STORELINE_API_JWKS_URL": "https://example.supabase.co/auth/v1/.well-known/jwks.json",
    }
    refused = storeline("token", "--user", "a@a.test", env=jwks)
    assert refused.returncode == 2
    assert "JWKS" in refused.stderr
    assert refused.stdout == ""
    unknown = storeline("token", "--user", "nobody@a.test", env=env)
    assert (unknown.returncode, unknown.stdout) == (2, "")
    assert "nobody@a.test" in unknown.stderr
