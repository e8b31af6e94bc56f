"""Connecting and disconnecting a shop's platforms (Shopify, Meta, GA4, HubSpot).

Secrets are checked and sealed (AES-GCM, storeline.core.crypto) here, so the database only ever
holds ciphertext, then stored by a SECURITY DEFINER function (80_api_writes.sql): `authenticated`
has no privilege on shop_credentials, and the function itself checks that the shop is the
caller's (else 404) and that they are an agency owner or staff (else 403). No response, problem
or log line carries a secret value: problems name fields, never their contents.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Annotated, Any, Literal

import orjson
from litestar import Controller, delete, post
from litestar.exceptions import HTTPException, NotFoundException, ValidationException
from litestar.params import JSONBody, Parameter
from pydantic import BaseModel, ConfigDict, Field

from storeline.api.database import UserDb
from storeline.api.openapi import problems
from storeline.api.routes.shops import ShopId
from storeline.api.views import PlatformStatus
from storeline.api.views_sync import Connected
from storeline.core.credentials import validate_secrets
from storeline.core.crypto import seal
from storeline.core.enums import Platform
from storeline.core.sql import queries
from storeline.platforms import SOURCES

SQL = queries("app_dashboard")

# Lowercase as in URLs, uppercase as responses spell them; the schema lists both.
PlatformWord = Literal["shopify", "meta", "ga4", "hubspot", "SHOPIFY", "META", "GA4", "HUBSPOT"]
PlatformName = Annotated[PlatformWord, Parameter(description="the platform")]
# Metadata is shown back to users (reporting.sync_status `account`): a token filed there by
# mistake would leak, so secret-looking keys are refused at any depth (the same rule as
# storeline_private.metadata_is_safe, 95_role_matrix.sql, which holds it for any caller).
_SECRET_KEY = re.compile(
    r"token|secret|password|passwd|credential|api_?key|private_?key", re.IGNORECASE
)
MAX_METADATA_BYTES = 16384


def platform_named(value: str) -> Platform:
    """shopify or SHOPIFY, meta or META, …; ValueError names the choices."""
    try:
        if value not in (value.lower(), value.upper()):
            raise ValueError
        platform = Platform(value.upper())
    except ValueError:
        platform = None
    # An export target (BigQuery) is not connected per shop.
    if platform is None or platform not in SOURCES:
        names = ", ".join(p.lower() for p in SOURCES)
        raise ValueError(f"unknown platform {value!r}: use one of {names}") from None
    return platform


def parse_platform(value: str) -> Platform:
    try:
        return platform_named(value)
    except ValueError as exc:
        raise ValidationException(str(exc)) from None


class Connection(BaseModel):
    model_config = ConfigDict(extra="forbid")

    secrets: dict[str, Any] = Field(
        description="shopify/meta/hubspot: access_token; ga4: client_id, client_secret, "
        "refresh_token. Stored encrypted and never returned."
    )
    metadata: dict[str, Any] = Field(
        default_factory=dict,
        description="non-secret account facts, e.g. Meta ad_account_ids, GA4 property_id",
    )


def _refused(detail: str) -> HTTPException:
    """Well-formed JSON the platform cannot take: 422 (the schema cannot say per platform)."""
    return HTTPException(status_code=422, detail=detail)


def _check(platform: Platform, body: Connection) -> None:
    """422 naming the offending fields; validate_secrets' messages carry names, never values."""
    try:
        validate_secrets(platform, body.secrets)
    except ValueError as exc:
        raise _refused(str(exc)) from None
    leaky = sorted(set(_secret_keys(body.metadata)))
    if leaky:
        raise _refused(
            f"metadata is shown to users and may not hold secrets: move {', '.join(leaky)} "
            "into secrets"
        )
    if len(orjson.dumps(body.metadata)) > MAX_METADATA_BYTES:
        raise _refused(f"metadata is over {MAX_METADATA_BYTES // 1024} KiB")


def _secret_keys(metadata: dict[str, Any]) -> Iterator[str]:
    """Secret-looking keys at any depth, as dotted paths (names only, never values)."""
    stack: list[tuple[str, Any]] = [("", metadata)]
    while stack:
        path, node = stack.pop()
        if isinstance(node, dict):
            for key, value in node.items():
                here = f"{path}{key}"
                if _SECRET_KEY.search(str(key)):
                    yield f"metadata.{here}"
                stack.append((f"{here}.", value))
        elif isinstance(node, list):
            stack.extend((f"{path}{i}.", v) for i, v in enumerate(node))


class PlatformController(Controller):
    path = "/api/shops/{shop_id:str}/platforms"
    tags = ("platforms",)

    @post("/{platform:str}/connect", status_code=202, responses=problems(403, 404, 422))
    async def connect(
        self, db: UserDb, shop_id: ShopId, platform: PlatformName, data: JSONBody[Connection]
    ) -> Connected:
        """Store (or replace) the platform's credential and queue its HISTORICAL_INIT.

        Idempotent: connecting again replaces the credential (status back to OK) and returns the
        job already queued for the platform instead of queueing another.
        """
        kind = parse_platform(platform)
        _check(kind, data)
        sealed = seal(dict(data.secrets), shop_id=shop_id, platform=kind)
        job_id = await db.fetchval(
            SQL["api_connect_platform"],
            shop_id,
            kind,
            sealed.key_id,
            sealed.ciphertext,
            data.metadata,
        )
        if job_id is None:
            raise NotFoundException(f"no shop {shop_id!r} for this user")
        [row] = [r for r in await db.fetch(SQL["shop_platforms"], shop_id) if r["platform"] == kind]
        return Connected(shop_id=shop_id, job_id=job_id, platform=PlatformStatus.from_row(row))

    @delete("/{platform:str}", status_code=204, responses=problems(403, 404))
    async def disconnect(self, db: UserDb, shop_id: ShopId, platform: PlatformName) -> None:
        """Remove the credential: queued jobs are cancelled ('disconnected'), a running one is
        asked to stop. The shop's warehouse, staging and cursor rows are kept, so the history
        it already synced stays reportable; deleting a client's data is a separate act."""
        kind = parse_platform(platform)
        done = await db.fetchval(SQL["api_disconnect_platform"], shop_id, kind)
        if done is None:
            raise NotFoundException(f"no shop {shop_id!r} for this user")
        if not done:
            raise NotFoundException(f"{kind.lower()} is not connected to {shop_id}")
