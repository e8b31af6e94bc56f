"""Kernel settings, one pydantic-settings class per concern, each built by a cached factory.

Nothing is read at import time: call `database_settings()` etc. where the value is needed, so tests
and the CLI can set the environment first.
"""

from __future__ import annotations

import base64
from functools import lru_cache
from pathlib import Path
from typing import TypeVar
from urllib.parse import urlsplit

import platformdirs
from pydantic import Field, SecretStr, ValidationError, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from storeline.core.errors import ConfigError

_ENV = SettingsConfigDict(env_file=None, extra="ignore", case_sensitive=False)
_S = TypeVar("_S", bound=BaseSettings)


class DatabaseSettings(BaseSettings):
    """Where Postgres is. Unset `DATABASE_URL` means the embedded server (pgserver)."""

    model_config = _ENV

    database_url: SecretStr | None = None
    pool_min_size: int = Field(default=1, ge=0)
    pool_max_size: int = Field(default=10, ge=1)
    # Supabase's transaction pooler (port 6543) cannot keep prepared statements (docs/security.md).
    statement_cache_size: int = Field(default=100, ge=0)
    command_timeout_seconds: float = 60.0

    @field_validator("database_url")
    @classmethod
    def _valid_url(cls, value: SecretStr | None) -> SecretStr | None:
        if value is None or not value.get_secret_value().strip():
            return None
        parts = urlsplit(value.get_secret_value())
        if parts.scheme not in ("postgres", "postgresql") or not (parts.hostname or parts.query):
            raise ValueError("must look like postgresql://user:password@host:5432/dbname")
        return value


class PathSettings(BaseSettings):
    """Local state (embedded Postgres data, dev keys) lives in the user's data directory."""

    model_config = SettingsConfigDict(env_prefix="STORELINE_", extra="ignore")

    data_dir: Path = Path(platformdirs.user_data_dir("storeline"))


class CryptoSettings(BaseSettings):
    """Credential encryption keys: `kid:base64key[,kid:base64key…]`; the first one encrypts.

    Older keys stay listed so rows they encrypted can still be read while keys rotate.
    """

    model_config = SettingsConfigDict(env_prefix="STORELINE_", extra="ignore")

    encryption_keys: SecretStr | None = None

    def keyring(self) -> dict[str, bytes]:
        if self.encryption_keys is None or not self.encryption_keys.get_secret_value().strip():
            raise ConfigError(
                "STORELINE_ENCRYPTION_KEYS is not set; create one with `storeline keys generate`"
            )
        keys: dict[str, bytes] = {}
        for item in self.encryption_keys.get_secret_value().split(","):
            kid, sep, b64 = item.strip().partition(":")
            try:
                key = base64.urlsafe_b64decode(b64.encode()) if sep else b""
            except ValueError:
                key = b""
            if not kid or len(key) != 32:
                raise ConfigError(
                    "STORELINE_ENCRYPTION_KEYS is malformed: expected kid:<urlsafe base64 of "
                    "32 bytes>, comma-separated"
                )
            keys[kid] = key
        return keys


class LogSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="STORELINE_LOG_", extra="ignore")

    level: str = "INFO"
    format: str = "auto"  # auto | json | console


def _build(cls: type[_S]) -> _S:
    try:
        return cls()
    except ValidationError as exc:
        first = exc.errors()[0]
        field = ".".join(str(p) for p in first["loc"]).upper()
        raise ConfigError(f"invalid setting {field}: {first['msg']}") from None


@lru_cache
def database_settings() -> DatabaseSettings:
    return _build(DatabaseSettings)


@lru_cache
def path_settings() -> PathSettings:
    return _build(PathSettings)


@lru_cache
def crypto_settings() -> CryptoSettings:
    return _build(CryptoSettings)


@lru_cache
def log_settings() -> LogSettings:
    return _build(LogSettings)


def clear_caches() -> None:
    """Forget built settings (tests and the CLI change the environment between runs)."""
    for factory in (database_settings, path_settings, crypto_settings, log_settings):
        factory.cache_clear()
