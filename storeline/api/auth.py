"""Verifying Supabase JWTs: signature, audience, expiry, subject. Nothing else is trusted.

The verified claims are what `storeline.core.rls.as_user` hands to Postgres; RLS keyed by
`user_shops` then decides what the caller sees, so the API never filters by user itself.
HS256 tokens are checked with the project's shared secret; ES256/RS256 tokens with the key their
`kid` names in the project's JWKS (PyJWKClient caches the set and refetches on an unknown kid).
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Mapping
from typing import Any

import jwt
from litestar.connection import ASGIConnection
from litestar.exceptions import NotAuthorizedException, ServiceUnavailableException
from litestar.middleware.authentication import (
    AbstractAuthenticationMiddleware,
    AuthenticationResult,
)

from storeline.api.settings import ApiSettings

_ASYMMETRIC = ["ES256", "RS256"]


class TokenVerifier:
    def __init__(self, settings: ApiSettings) -> None:
        self.settings = settings
        self._secret = settings.jwt_secret.get_secret_value() if settings.jwt_secret else None
        self._jwks = (
            jwt.PyJWKClient(settings.jwks_url, cache_keys=True, lifespan=600, timeout=5)
            if settings.jwks_url
            else None
        )

    @property
    def configured(self) -> bool:
        return self._secret is not None or self._jwks is not None

    async def verify(self, token: str) -> dict[str, Any]:
        """The token's claims, or NotAuthorizedException with a reason safe to show."""
        try:
            header = jwt.get_unverified_header(token)
        except jwt.PyJWTError:
            raise NotAuthorizedException("the bearer token is not a JWT") from None
        alg = header.get("alg")
        if alg == "HS256" and self._secret is not None:
            key: Any = self._secret
        elif alg in _ASYMMETRIC and self._jwks is not None:
            try:
                # PyJWKClient fetches over urllib (blocking): keep it off the event loop.
                key = await asyncio.to_thread(self._jwks.get_signing_key_from_jwt, token)
            except jwt.PyJWKClientConnectionError:
                # Our problem, not the caller's: the project's key set could not be fetched.
                raise ServiceUnavailableException("cannot fetch the signing keys") from None
            except jwt.PyJWKClientError as exc:
                raise NotAuthorizedException(f"no signing key for this token: {exc}") from None
        else:
            raise NotAuthorizedException(f"tokens signed with {alg!r} are not accepted")
        try:
            claims: dict[str, Any] = jwt.decode(
                token,
                key,
                algorithms=[alg],
                audience=self.settings.jwt_audience,
                issuer=self.settings.jwt_issuer,
                leeway=self.settings.jwt_leeway_seconds,
                options={"require": ["exp", "sub", "aud"]},
            )
        except jwt.ExpiredSignatureError:
            raise NotAuthorizedException("the bearer token has expired") from None
        except jwt.PyJWTError as exc:
            raise NotAuthorizedException(f"the bearer token is invalid: {exc}") from None
        except (TypeError, ValueError, OverflowError, RecursionError):
            # A claim PyJWT cannot compare or convert (exp=10**20 overflows a timestamp).
            raise NotAuthorizedException("a claim of the bearer token is out of range") from None
        if claims.get("role", "authenticated") != "authenticated":
            # anon and service_role tokens are not users; service_role would bypass RLS.
            raise NotAuthorizedException("only signed-in users may call this API")
        if not _canonical_uuid(claims["sub"]):
            # Postgres casts `sub` to uuid (auth.uid()): "urn:uuid:…" or braces would pass
            # Python's parser and fail there.
            raise NotAuthorizedException("the token's subject is not a user id") from None
        if not _fits_postgres(claims):
            # The claims travel to Postgres as JSON (request.jwt.claims): integers beyond 64 bits
            # and absurd nesting have no place in a Supabase token.
            raise NotAuthorizedException("a claim of the bearer token is out of range")
        return claims


_INT64 = range(-(2**63), 2**63)
_MAX_CLAIM_DEPTH = 16


def _canonical_uuid(value: object) -> bool:
    if not isinstance(value, str):
        return False
    try:
        return str(uuid.UUID(value)) == value.lower()
    except ValueError:
        return False


def _storable(text: str) -> bool:
    """jsonb refuses NUL (even escaped); lone surrogates are not UTF-8."""
    try:
        text.encode()
    except UnicodeEncodeError:
        return False
    return "\x00" not in text


def _fits_postgres(claims: Mapping[str, Any]) -> bool:
    """Integers within 64 bits, strings jsonb can hold, nesting at most _MAX_CLAIM_DEPTH deep
    (iterative, so a deep claim cannot overflow the stack here)."""
    stack: list[tuple[Any, int]] = [(claims, 0)]
    while stack:
        value, depth = stack.pop()
        if depth > _MAX_CLAIM_DEPTH:
            return False
        if isinstance(value, bool):
            continue
        if isinstance(value, int) and value not in _INT64:
            return False
        if isinstance(value, str) and not _storable(value):
            return False
        if isinstance(value, Mapping):
            if not all(_storable(str(k)) for k in value):
                return False
            stack.extend((v, depth + 1) for v in value.values())
        elif isinstance(value, list):
            stack.extend((v, depth + 1) for v in value)
    return True


class User:
    """The caller, as the verified token says."""

    def __init__(self, claims: Mapping[str, Any]) -> None:
        self.claims = dict(claims)
        self.id = uuid.UUID(str(claims["sub"]))


class JWTMiddleware(AbstractAuthenticationMiddleware):
    """`Authorization: Bearer <jwt>` on every route but the excluded ones (health, schema)."""

    async def authenticate_request(
        self, connection: ASGIConnection[Any, Any, Any, Any]
    ) -> AuthenticationResult:
        scheme, _, token = connection.headers.get("authorization", "").partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise NotAuthorizedException("send Authorization: Bearer <Supabase access token>")
        verifier: TokenVerifier = connection.app.state.verifier
        claims = await verifier.verify(token.strip())
        return AuthenticationResult(user=User(claims), auth=token)
