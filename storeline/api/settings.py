"""API settings: how to verify Supabase JWTs and where to listen."""

from __future__ import annotations

from functools import lru_cache

from pydantic import AliasChoices, Field, SecretStr, ValidationError
from pydantic_settings import BaseSettings, SettingsConfigDict

from storeline.core.errors import ConfigError


class ApiSettings(BaseSettings):
    """A Supabase project signs user JWTs with its legacy HS256 secret or with asymmetric keys
    published at its JWKS URL; either (or both, during a key migration) may be configured."""

    model_config = SettingsConfigDict(
        env_prefix="STORELINE_API_", extra="ignore", populate_by_name=True
    )

    # Supabase dashboard → Project settings → JWT: the legacy shared secret.
    jwt_secret: SecretStr | None = Field(
        default=None,
        validation_alias=AliasChoices("STORELINE_API_JWT_SECRET", "SUPABASE_JWT_SECRET"),
    )
    # https://<project>.supabase.co/auth/v1/.well-known/jwks.json (ES256/RS256 signing keys).
    jwks_url: str | None = None
    jwt_audience: str = "authenticated"
    # When set, tokens from another issuer are refused (https://<project>.supabase.co/auth/v1).
    jwt_issuer: str | None = None
    # Clock skew tolerated on exp/nbf/iat.
    jwt_leeway_seconds: float = Field(default=30.0, ge=0)
    host: str = "127.0.0.1"
    port: int = Field(default=8000, ge=0, le=65535)
    pool_max_size: int = Field(default=10, ge=1)


@lru_cache
def api_settings() -> ApiSettings:
    try:
        return ApiSettings()
    except ValidationError as exc:
        first = exc.errors()[0]
        name = f"STORELINE_API_{first['loc'][0]}".upper()
        raise ConfigError(f"{name}: {first['msg']}") from exc
