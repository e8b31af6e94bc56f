"""`storeline seed --file seed.toml`: agencies, users, shops and credentials from one file.

Secrets come from the file's `[credentials.secrets]` table or, by name, from the environment
(`[credentials.secrets_env]`), never from argv. Everything is written in one transaction, so a bad
file changes nothing; rerunning the same file is a no-op apart from re-sealed tokens.
"""

from __future__ import annotations

import os
import tomllib
import uuid
from pathlib import Path
from typing import Any

import asyncpg
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from storeline.core import credentials
from storeline.core.enums import Platform, UserRole
from storeline.core.errors import InputError
from storeline.core.shops import normalize_shop_domain
from storeline.core.sql import queries

_NAMESPACE = uuid.UUID("6f1c1a52-5d7e-4a7b-9a0e-2f2b7c1d9e10")


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid")


class AgencySeed(_Model):
    name: str
    id: uuid.UUID | None = None

    def key(self) -> uuid.UUID:
        # Stable across reruns when no id is given.
        return self.id or uuid.uuid5(_NAMESPACE, f"agency:{self.name}")


class UserSeed(_Model):
    id: uuid.UUID
    email: str
    role: UserRole = UserRole.AGENCY_OWNER
    agency: str


class ShopSeed(_Model):
    id: str
    name: str
    currency: str
    timezone: str
    agency: str
    users: list[str] = Field(default_factory=list)  # emails

    @field_validator("id")
    @classmethod
    def _domain(cls, value: str) -> str:
        return normalize_shop_domain(value)


class CredentialSeed(_Model):
    shop: str
    platform: Platform
    metadata: dict[str, Any] = Field(default_factory=dict)
    secrets: dict[str, str] = Field(default_factory=dict)
    secrets_env: dict[str, str] = Field(default_factory=dict)

    @field_validator("shop")
    @classmethod
    def _domain(cls, value: str) -> str:
        return normalize_shop_domain(value)

    def resolved(self) -> dict[str, str]:
        values = dict(self.secrets)
        for key, env_name in self.secrets_env.items():
            if key in values:
                raise InputError(f"{self.shop}/{self.platform}: {key} given twice")
            if not os.environ.get(env_name):
                raise InputError(
                    f"{self.shop}/{self.platform}: environment variable {env_name} is not set"
                )
            values[key] = os.environ[env_name]
        return values


class SeedFile(_Model):
    agencies: list[AgencySeed] = Field(default_factory=list)
    users: list[UserSeed] = Field(default_factory=list)
    shops: list[ShopSeed] = Field(default_factory=list)
    credentials: list[CredentialSeed] = Field(default_factory=list)


def read(path: Path) -> SeedFile:
    try:
        data = tomllib.loads(path.read_text())
    except OSError as exc:
        raise InputError(f"cannot read seed file {path}: {exc.strerror}") from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise InputError(f"seed file {path} is not valid TOML: {exc}") from None
    try:
        return SeedFile.model_validate(data)
    except ValidationError as exc:
        err = exc.errors()[0]
        where = ".".join(str(p) for p in err["loc"])
        raise InputError(f"seed file {path}: {where}: {err['msg']}") from None


async def apply(conn: asyncpg.Connection, seed: SeedFile) -> dict[str, int]:
    """Write the whole seed in one transaction; returns counts per kind (and jobs enqueued)."""
    q = queries("app_dashboard")
    agencies = {a.name: a.key() for a in seed.agencies}
    users_by_email = {u.email: u for u in seed.users}
    # Resolve every secret before writing anything: a missing env var must change nothing.
    resolved = [(c, c.resolved()) for c in seed.credentials]
    for cred, secrets in resolved:
        try:
            credentials.validate_secrets(cred.platform, secrets)
        except ValueError as exc:
            raise InputError(f"seed file: {cred.shop}: {exc}") from None
    jobs = 0
    async with conn.transaction():
        for name, agency_id in agencies.items():
            await conn.execute(q["upsert_agency"], agency_id, name)
        for user in seed.users:
            await conn.execute(
                q["upsert_user"], user.id, user.email, user.role, _agency(agencies, user.agency)
            )
        for shop in seed.shops:
            await conn.execute(
                q["upsert_shop"],
                shop.id,
                shop.name,
                shop.currency,
                shop.timezone,
                _agency(agencies, shop.agency),
            )
            for email in shop.users:
                if email not in users_by_email:
                    raise InputError(f"seed file: shop {shop.id} names unknown user {email}")
                await conn.execute(q["link_user_shop"], users_by_email[email].id, shop.id)
        for cred, secrets in resolved:
            job_id = await credentials.save(
                conn,
                shop_id=cred.shop,
                platform=cred.platform,
                secrets=secrets,
                metadata=cred.metadata,
            )
            jobs += job_id is not None
    return {
        "agencies": len(agencies),
        "users": len(seed.users),
        "shops": len(seed.shops),
        "credentials": len(resolved),
        "jobs_enqueued": jobs,
    }


def _agency(agencies: dict[str, uuid.UUID], name: str) -> uuid.UUID:
    if name not in agencies:
        raise InputError(f"seed file: unknown agency {name!r}")
    return agencies[name]
