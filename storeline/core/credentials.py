"""Saving and reading platform credentials. Tokens are sealed before they reach SQL and only the
worker (and the API's connect route) ever unseal them."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import asyncpg

from storeline.core.crypto import Sealed, seal, unseal
from storeline.core.enums import CredentialStatus, JobType, Platform
from storeline.core.sql import queries
from storeline.platforms import PLATFORMS


@dataclass(frozen=True)
class Credential:
    secrets: Mapping[str, Any]
    metadata: Mapping[str, Any]
    status: CredentialStatus


def validate_secrets(platform: Platform, secrets: Mapping[str, Any]) -> None:
    """Exactly one of the platform's secret sets (platform registry), each field a non-empty
    string; anything else is refused, so a typo never stores a token in the wrong place. The set
    closest to what was sent names what is missing or unexpected."""
    sets = PLATFORMS[platform].secret_sets
    if not sets:
        raise ValueError(f"{platform} is an export target and takes no credentials")
    required = max(sets, key=lambda s: len(s & secrets.keys()))
    missing = sorted(required - secrets.keys())
    unknown = sorted(secrets.keys() - required)
    if missing or unknown:
        parts = []
        if missing:
            parts.append(f"missing {', '.join(missing)}")
        if unknown:
            parts.append(f"unexpected {', '.join(unknown)}")
        raise ValueError(f"{platform} credentials: {'; '.join(parts)}")
    for key in required:
        if not isinstance(secrets[key], str) or not secrets[key].strip():
            raise ValueError(f"{platform} credentials: {key} must be a non-empty string")


async def save(
    conn: asyncpg.Connection,
    *,
    shop_id: str,
    platform: Platform,
    secrets: Mapping[str, Any],
    metadata: Mapping[str, Any],
    requested_by: str | None = None,
) -> int | None:
    """Store the sealed credential and enqueue its HISTORICAL_INIT in one transaction.

    Returns the new job id; when a job for (shop, platform) was already queued, its id if the
    backfill upgraded it (it was weaker: an INCREMENTAL), else None.
    """
    validate_secrets(platform, secrets)
    sealed = seal(dict(secrets), shop_id=shop_id, platform=platform)
    q = queries("app_dashboard")
    async with conn.transaction():
        await conn.execute(
            q["upsert_credential"],
            shop_id,
            platform,
            sealed.key_id,
            sealed.ciphertext,
            dict(metadata),
        )
        job_id: int | None = await conn.fetchval(
            q["enqueue_job"], shop_id, platform, JobType.HISTORICAL_INIT, 10, requested_by
        )
    return job_id


async def load(conn: asyncpg.Connection, *, shop_id: str, platform: Platform) -> Credential | None:
    row = await conn.fetchrow(queries("app_dashboard")["get_credential"], shop_id, platform)
    if row is None:
        return None
    secrets = unseal(Sealed(row["key_id"], row["ciphertext"]), shop_id=shop_id, platform=platform)
    return Credential(secrets, row["metadata"], CredentialStatus(row["status"]))
