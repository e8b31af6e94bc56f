"""Retries: transient errors back off and end FAILED after max_attempts, terminal errors fail at
once, bad credentials mark NEEDS_REAUTH, and no failure ever moves the cursor."""

from __future__ import annotations

import asyncpg
import pytest

from storeline.worker.errors import (
    CredentialError,
    JobCancelled,
    LeaseLost,
    TerminalError,
    TransientError,
)
from storeline.worker.jobs.retry import Action, backoff, decide
from tests.worker.jobs.conftest import (
    add_shop,
    fast_settings,
    job_row,
    only_job,
    running_worker,
    status_of,
    wait_until,
)

WATERMARK = {"rows": 3, "job_id": 0}


def test_backoff_grows_exponentially_with_jitter_and_a_cap() -> None:
    for attempt, ceiling in [(1, 30), (2, 60), (3, 120), (6, 960), (7, 1800), (20, 1800)]:
        delays = [backoff(attempt, base=30, cap=1800) for _ in range(200)]
        assert all(ceiling / 2 <= d <= ceiling for d in delays)
        assert len(set(delays)) > 100  # jittered: replicas do not retry in lockstep
    assert backoff(1, base=30, cap=1800, retry_after=300) == 300  # the server's hint wins ...
    assert backoff(1, base=30, cap=1800, retry_after=9999) == 1800  # ... up to the cap


@pytest.mark.parametrize(
    ("exc", "attempts", "action", "code"),
    [
        (None, 1, Action.COMPLETE, None),
        (TransientError("503", code="upstream_5xx"), 1, Action.RETRY, "upstream_5xx"),
        (TransientError("503", code="upstream_5xx"), 5, Action.FAIL, "upstream_5xx"),
        (TerminalError("bad query", code="bad_request"), 1, Action.FAIL, "bad_request"),
        (CredentialError("401"), 1, Action.FAIL, "credential_invalid"),
        (LeaseLost("gone"), 1, Action.NOTHING, None),
        (JobCancelled("stop"), 1, Action.CANCEL, "cancelled"),
        (TimeoutError(), 1, Action.RETRY, "timeout"),
        (ConnectionResetError("reset"), 1, Action.RETRY, "connection_error"),
        (KeyError("oops"), 1, Action.RETRY, "internal_error"),
    ],
)
def test_decide(exc: BaseException | None, attempts: int, action: Action, code: str) -> None:
    d = decide(exc, attempts=attempts, max_attempts=5, task="t", base=1, cap=10)
    assert d.action is action
    assert (d.error or {}).get("code") == code
    if d.error:
        assert set(d.error) >= {"code", "message", "task", "retryable"}
    assert (d.reauth_reason is not None) == isinstance(exc, CredentialError)


async def with_previous_success(conn: asyncpg.Connection, shop: str) -> None:
    await conn.execute(
        "INSERT INTO app_dashboard.sync_cursors (shop_id, platform, watermark, last_success_at) "
        "VALUES ($1, 'SHOPIFY', $2, now() - interval '1 hour')",
        shop,
        WATERMARK,
    )


async def cursor_of(conn: asyncpg.Connection, shop: str) -> asyncpg.Record | None:
    return await conn.fetchrow(
        "SELECT watermark, last_success_at < now() - interval '30 min' AS old "
        "FROM app_dashboard.sync_cursors WHERE shop_id = $1",
        shop,
    )


async def test_transient_errors_back_off_then_fail_after_max_attempts(
    jobs_db: asyncpg.Connection, db_dsn: str
) -> None:
    shop = await add_shop(jobs_db, "flaky", fail="transient")
    await with_previous_success(jobs_db, shop)
    job_id = await only_job(jobs_db, shop)
    await jobs_db.execute("UPDATE app_dashboard.sync_jobs SET max_attempts = 3")
    async with running_worker(db_dsn, fast_settings()) as worker:
        await wait_until(lambda: _status_is(jobs_db, job_id, "FAILED"), within=10)
    assert worker.stats["retried"] == 2
    assert worker.stats["failed"] == 1
    row = await job_row(jobs_db, job_id)
    assert row["attempts"] == 3
    assert row["lease_token"] is None
    assert row["error"] == {
        "code": "upstream_unavailable",
        "message": "upstream returned 503",
        "task": "fetch",
        "retryable": True,
        "attempts": 3,
    }
    events = await jobs_db.fetch(
        "SELECT to_status, at, (detail->>'run_after')::timestamptz AS run_after "
        "FROM app_dashboard.sync_job_events WHERE job_id = $1 ORDER BY id",
        job_id,
    )
    assert [e["to_status"] for e in events] == [
        "QUEUED",
        "IN_PROGRESS",
        "QUEUED",
        "IN_PROGRESS",
        "QUEUED",
        "IN_PROGRESS",
        "FAILED",
    ]
    retries = [e for e in events[1:] if e["to_status"] == "QUEUED"]
    assert all(e["run_after"] > e["at"] for e in retries)  # each retry waited (backoff)
    # The loaded chunks stay in staging, but the cursor never moved.
    assert dict(await cursor_of(jobs_db, shop) or {}) == {"watermark": WATERMARK, "old": True}


async def _status_is(conn: asyncpg.Connection, job_id: int, status: str) -> bool:
    return await status_of(conn, job_id) == status


async def test_transient_error_then_success_advances_the_cursor(
    jobs_db: asyncpg.Connection, db_dsn: str
) -> None:
    shop = await add_shop(jobs_db, "recovers", fail="crash", fail_before=2)
    job_id = await only_job(jobs_db, shop)
    async with running_worker(db_dsn, fast_settings()):
        await wait_until(lambda: _status_is(jobs_db, job_id, "SUCCEEDED"), within=10)
    row = await job_row(jobs_db, job_id)
    assert row["attempts"] == 2
    assert row["error"] is None
    cursor = await cursor_of(jobs_db, shop)
    assert cursor is not None
    assert cursor["watermark"] == {"rows": 3, "job_id": job_id}
    assert await jobs_db.fetchval("SELECT count(*) FROM public.fake_rows") == 3  # no duplicates


async def test_terminal_error_fails_at_once(jobs_db: asyncpg.Connection, db_dsn: str) -> None:
    shop = await add_shop(jobs_db, "unsupported", fail="terminal")
    await with_previous_success(jobs_db, shop)
    job_id = await only_job(jobs_db, shop)
    async with running_worker(db_dsn, fast_settings()):
        await wait_until(lambda: _status_is(jobs_db, job_id, "FAILED"))
    row = await job_row(jobs_db, job_id)
    assert row["attempts"] == 1
    assert row["error"]["code"] == "unsupported_shop"
    assert row["error"]["retryable"] is False
    assert dict(await cursor_of(jobs_db, shop) or {}) == {"watermark": WATERMARK, "old": True}
    cred = await jobs_db.fetchval("SELECT status FROM app_dashboard.shop_credentials")
    assert cred == "OK"


async def test_credential_error_marks_needs_reauth_without_leaking_the_token(
    jobs_db: asyncpg.Connection, db_dsn: str
) -> None:
    shop = await add_shop(jobs_db, "expired", fail="credential")
    job_id = await only_job(jobs_db, shop)
    async with running_worker(db_dsn, fast_settings()):
        await wait_until(lambda: _status_is(jobs_db, job_id, "FAILED"))
    row = await job_row(jobs_db, job_id)
    assert row["attempts"] == 1
    assert row["error"]["code"] == "invalid_token"
    cred = await jobs_db.fetchrow(
        "SELECT status, status_reason FROM app_dashboard.shop_credentials WHERE shop_id = $1",
        shop,
    )
    assert cred["status"] == "NEEDS_REAUTH"
    assert cred["status_reason"].startswith("invalid_token")
    stored = str(row["error"]) + cred["status_reason"]
    assert "shpat***" in stored
    assert "0123456789abcdef" not in stored

    # The next job for this credential fails without calling the connector at all.
    await jobs_db.execute(
        "INSERT INTO app_dashboard.sync_jobs (shop_id, platform, job_type) "
        "VALUES ($1, 'SHOPIFY', 'INCREMENTAL')",
        shop,
    )
    async with running_worker(db_dsn, fast_settings()):
        await wait_until(
            lambda: jobs_db.fetchval(
                "SELECT error->>'code' FROM app_dashboard.sync_jobs WHERE id > $1 "
                "AND status = 'FAILED'",
                job_id,
            )
        )
    assert (
        await jobs_db.fetchval("SELECT count(*) FROM public.fake_rows WHERE job_id > $1", job_id)
        == 0
    )


async def test_unexpected_exception_is_recorded_redacted(
    jobs_db: asyncpg.Connection, db_dsn: str
) -> None:
    shop = await add_shop(jobs_db, "buggy", fail="crash")
    job_id = await only_job(jobs_db, shop)
    await jobs_db.execute("UPDATE app_dashboard.sync_jobs SET max_attempts = 1")
    async with running_worker(db_dsn, fast_settings()):
        await wait_until(lambda: _status_is(jobs_db, job_id, "FAILED"))
    error = (await job_row(jobs_db, job_id))["error"]
    assert error["code"] == "internal_error"
    assert error["task"] == "shopify.historical_init"
    assert "sk_live_secret" not in error["message"]
    assert "RuntimeError" in error["message"]
