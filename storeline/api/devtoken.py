"""`storeline token --user EMAIL`: a development access token shaped like Supabase's, signed with
the configured HS256 secret, so a person can call a local API with curl.

Refused when a JWKS URL is configured: that API trusts a real Supabase project's keys, and a
token minted here must never look like one of its users' (docs/security.md).
"""

from __future__ import annotations

import time

from storeline.api.settings import api_settings
from storeline.core import db
from storeline.core import dsn as dsns
from storeline.core.errors import ConfigError, InputError
from storeline.core.sql import queries

MAX_TTL_SECONDS = 7 * 24 * 3600


async def mint(email: str, ttl_seconds: int) -> str:
    import jwt

    settings = api_settings()
    if settings.jwks_url:
        raise ConfigError(
            "STORELINE_API_JWKS_URL is set: this API verifies tokens from a Supabase project, "
            "sign in through Supabase instead (`storeline token` is for local development)"
        )
    if settings.jwt_secret is None:
        raise ConfigError("set STORELINE_API_JWT_SECRET (or SUPABASE_JWT_SECRET) to sign tokens")
    if not 1 <= ttl_seconds <= MAX_TTL_SECONDS:
        raise InputError(f"--ttl must be between 1 and {MAX_TTL_SECONDS} seconds")
    conn = await db.connect(dsns.resolve())
    try:
        user = await conn.fetchrow(queries("app_dashboard")["user_by_email"], email)
    finally:
        await conn.close()
    if user is None:
        raise InputError(f"no Storeline user has the email {email!r} (see `storeline seed`)")
    now = int(time.time())
    claims = {
        "sub": str(user["id"]),
        "email": user["email"],
        "aud": settings.jwt_audience,
        "role": "authenticated",
        "iat": now,
        "exp": now + ttl_seconds,
    }
    if settings.jwt_issuer:
        claims["iss"] = settings.jwt_issuer
    return jwt.encode(claims, settings.jwt_secret.get_secret_value(), algorithm="HS256")
