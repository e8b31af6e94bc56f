"""The contract between the engine and connectors: a connector only "fetches and loads this job".

The engine claims a job, builds a `JobContext`, and calls `connector.run(ctx)`. Everything about
running jobs safely (leases, heartbeats, retries, cursor commits) stays on the engine's side.
"""

from __future__ import annotations

from collections.abc import Mapping
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from typing import Any, Protocol
from uuid import UUID

import asyncpg

from storeline.core.enums import JobType, Platform


@dataclass(frozen=True)
class ClaimedJob:
    id: int
    shop_id: str
    platform: Platform
    job_type: JobType
    attempts: int
    max_attempts: int
    lease_token: UUID
    progress: Mapping[str, Any]


@dataclass(frozen=True)
class ShopInfo:
    id: str
    currency: str
    timezone: str


class JobContext(Protocol):
    job: ClaimedJob
    shop: ShopInfo
    pool: asyncpg.Pool
    # The last committed watermark for (shop, platform): {} before the first success.
    cursor: Mapping[str, Any]
    # Decrypted secrets (access tokens, refresh tokens) and the non-secret metadata.
    secrets: Mapping[str, Any]
    metadata: Mapping[str, Any]

    def fenced(self) -> AbstractAsyncContextManager[asyncpg.Connection]:
        """A transaction that first locks the job row and checks the lease token; raises
        `LeaseLost` if another worker owns the job. Warehouse writes go through it, so a zombie
        worker can never write results."""
        ...

    def connection(self) -> AbstractAsyncContextManager[asyncpg.Connection]:
        """A pooled connection for reads outside a fenced transaction; the engine watches its
        backend, so a job whose connection dies is stopped and retried, not left hanging."""
        ...

    def touch(self) -> None:
        """Record progress (a source answered): a job silent for the engine's `stall_seconds`
        is stopped and retried."""
        ...

    async def save_progress(self, **progress: Any) -> None:
        """Merge keys into sync_jobs.progress (fenced), e.g. the Shopify bulk operation id so a
        restarted job resumes polling instead of starting over."""
        ...

    async def add_records(self, count: int) -> None:
        """Add to records_synced (fenced)."""
        ...

    def set_cursor(self, watermark: Mapping[str, Any]) -> None:
        """The watermark to commit in the same transaction that marks the job SUCCEEDED."""
        ...

    def check_cancelled(self) -> None:
        """Raise if cancellation was requested or the lease was lost (checked at chunk
        boundaries)."""
        ...


class Connector(Protocol):
    platform: Platform

    async def run(self, ctx: JobContext) -> None:
        """Fetch → COPY raw into staging → set-based transform → refresh rollups. Raise
        worker.errors.* on failure; return normally on success."""
        ...
