"""Claiming jobs: one statement takes up to `free` runnable jobs (docs/job-engine.md D1).

`FOR UPDATE SKIP LOCKED` in a MATERIALIZED CTE, a fresh lease token per job, attempts + 1 (so a
lease that expires counts as an attempt), and the shop, cursor and sealed credential come back in
the same round trip. The claim holds nothing after it returns: the lease lives in the row.

The LIMIT is written into the statement as a literal (one prepared statement per claim size).
As a parameter, Postgres plans the generic plan for a LIMIT of 10% of the queue (hash joins over
whole tables), so it re-plans the statement on every call instead: planning was a third of the
claim's time.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from functools import cache
from typing import Any, Protocol

import asyncpg

from storeline.core.enums import CredentialStatus, JobType, Platform
from storeline.core.sql import queries
from storeline.worker.jobs.contract import ClaimedJob, ShopInfo
from storeline.worker.logs import log


class Fetcher(Protocol):
    """A pool, a connection or a `HeldConnection`: anything that runs one statement."""

    async def fetch(self, query: str, *args: Any) -> Sequence[asyncpg.Record]: ...


@cache
def claim_sql(limit: int) -> str:
    """`claim_jobs` for a claim of `limit` jobs."""
    return queries("app_dashboard")["claim_jobs"].replace("LIMIT {limit}", f"LIMIT {int(limit)}")


@dataclass(frozen=True)
class Claim:
    job: ClaimedJob
    shop: ShopInfo
    cursor: Mapping[str, Any]
    # The credential as stored (sealed); None when the platform is not connected.
    key_id: str | None
    ciphertext: bytes | None
    metadata: Mapping[str, Any]
    credential_status: CredentialStatus | None


def _claim(row: asyncpg.Record) -> Claim:
    job = ClaimedJob(
        id=row["id"],
        shop_id=row["shop_id"],
        platform=Platform(row["platform"]),
        job_type=JobType(row["job_type"]),
        attempts=row["attempts"],
        max_attempts=row["max_attempts"],
        lease_token=row["lease_token"],
        progress=row["progress"],
    )
    status = row["credential_status"]
    return Claim(
        job=job,
        shop=ShopInfo(id=row["shop_id"], currency=row["currency"], timezone=row["timezone"]),
        cursor=row["watermark"],
        key_id=row["key_id"],
        ciphertext=row["ciphertext"],
        metadata=row["metadata"] or {},
        credential_status=CredentialStatus(status) if status is not None else None,
    )


async def claim(
    db: Fetcher,
    *,
    worker_id: str,
    limit: int,
    lease_seconds: float,
    platforms: Collection[Platform],
    synchronous_commit: str = "on",
) -> list[Claim]:
    """Up to `limit` jobs now leased to `worker_id`; [] when nothing is runnable."""
    if limit <= 0 or not platforms:
        return []
    try:
        rows = await db.fetch(
            claim_sql(limit),
            worker_id,
            lease_seconds,
            [str(p) for p in platforms],
            synchronous_commit,
        )
    except asyncpg.UniqueViolationError:
        # Cannot happen with the NOT EXISTS guard, but if it ever does it means "this key is
        # busy", never a crash (docs/job-engine.md D1).
        log.warning("claim_unique_violation", worker_id=worker_id)
        return []
    return [_claim(row) for row in rows]
