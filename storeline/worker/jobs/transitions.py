"""A running job's way out: fail, cancel, or back to QUEUED — each fenced by the lease token.

Every function returns whether the write happened; False means the lease was lost (another worker
or the reaper owns the job) and nothing was written. Completion lives in `completer.py` because it
is batched. The sync_job_events row for each transition is written by a trigger.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any
from uuid import UUID

import asyncpg

from storeline.core.enums import Platform
from storeline.core.sql import queries


async def fail(
    pool: asyncpg.Pool,
    job_id: int,
    token: UUID,
    error: dict[str, Any],
    *,
    reauth_reason: str | None = None,
) -> bool:
    """FAILED now; with `reauth_reason`, the credential is marked NEEDS_REAUTH in the same
    statement so the scheduler stops enqueuing for it until someone reconnects."""
    failed = await pool.fetchval(
        queries("app_dashboard")["fail_job"], job_id, token, error, reauth_reason
    )
    return bool(failed)


async def cancel(pool: asyncpg.Pool, job_id: int, token: UUID, error: dict[str, Any]) -> bool:
    row = await pool.fetchval(queries("app_dashboard")["cancel_job"], job_id, token, error)
    return row is not None


async def requeue(
    pool: asyncpg.Pool,
    job_id: int,
    token: UUID,
    *,
    delay: float = 0.0,
    error: dict[str, Any] | None = None,
    restore_attempt: bool = False,
    only_if_expired: bool = False,
    reason: str | None = None,
) -> bool:
    """IN_PROGRESS → QUEUED after `delay` seconds: a retry, a shutdown release
    (`restore_attempt`: the attempt did not fail, it was interrupted) or a reaped lease
    (`only_if_expired`: the UPDATE itself re-checks that the lease really expired).

    A job queued meanwhile for the same (shop, platform) is merged into this one first, keeping
    the broader job type, since only one may be QUEUED per key; a broader type makes this a new
    job (attempts and progress start over). `reason` goes on this job's event only."""
    q = queries("app_dashboard")
    for _ in range(3):
        try:
            async with pool.acquire() as conn, conn.transaction():
                # Each statement sets its own event reason: `reason` is this job's cause, not
                # the absorbed sibling's (storeline/core/sql/app_dashboard/85_merged_requests.sql).
                sibling = await conn.fetchrow(q["absorb_queued_sibling"], job_id)
                done = await conn.fetchval(
                    q["requeue_job"],
                    job_id,
                    token,
                    delay,
                    error,
                    -1 if restore_attempt else 0,
                    sibling["job_type"] if sibling else None,
                    only_if_expired,
                    sibling["priority"] if sibling else None,
                    reason,
                )
                if done is None:
                    raise _Rollback
                return True
        except _Rollback:
            return False
        except asyncpg.UniqueViolationError:
            continue  # a job was enqueued for the key between our two statements: absorb it too
    return False


async def fail_expired(
    pool: asyncpg.Pool, job_id: int, token: UUID, error: dict[str, Any], *, reason: str
) -> bool:
    """The reaper's end for a job whose last allowed attempt lost its lease."""
    q = queries("app_dashboard")
    async with pool.acquire() as conn, conn.transaction():
        await conn.execute(q["set_job_reason"], reason)
        return await conn.fetchval(q["fail_expired_job"], job_id, token, error) is not None


class _Rollback(Exception):
    """Leaves a transaction without committing its absorb when the lease turned out lost."""


async def enqueue_follow_ups(
    pool: asyncpg.Pool, job_id: int, platforms: Sequence[Platform]
) -> list[int]:
    """Jobs of `platforms` (export targets) for the shop of job `job_id`, if that job succeeded
    having changed data; idempotent (one QUEUED per key). Returns the new jobs' ids."""
    rows = await pool.fetch(
        queries("app_dashboard")["enqueue_follow_ups"], job_id, [p.value for p in platforms]
    )
    return [r["id"] for r in rows]
