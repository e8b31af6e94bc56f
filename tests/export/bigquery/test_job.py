"""The export as a job of the engine: enqueued after a sync that changed data, in its own slot,
so a failing export never fails or holds up the shop's syncs; and `storeline export bigquery`."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
from pathlib import Path

import asyncpg
import pytest

from storeline.core import credentials, db
from storeline.core.enums import Platform
from storeline.core.sql import queries
from storeline.export.bigquery.job import BigQueryExport
from storeline.export.bigquery.settings import bigquery_settings
from storeline.worker.jobs.contract import JobContext
from storeline.worker.jobs.runner import Worker
from storeline.worker.settings import WorkerSettings
from tests.export.bigquery.conftest import SHOP_A, _wait, add_shop, export
from tests.platforms.engine import ENGINE


class ChangingSync:
    """A sync that reports rows changed (what makes the engine enqueue the exports)."""

    platform = Platform.SHOPIFY

    async def run(self, ctx: JobContext) -> None:
        await ctx.add_records(3)
        ctx.set_cursor({"at": "now"})


async def test_a_failing_export_never_fails_or_blocks_a_sync(
    db_dsn: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("STORELINE_BIGQUERY_PROJECT", raising=False)  # export fails: terminal
    bigquery_settings.cache_clear()
    conn = await db.connect(db_dsn)
    pool = await db.create_pool(db_dsn, min_size=1, max_size=4)
    worker = Worker(
        pool=pool,
        settings=WorkerSettings(**ENGINE, exports="BIGQUERY"),
        connectors={Platform.SHOPIFY: ChangingSync, Platform.BIGQUERY: BigQueryExport},
    )
    task = asyncio.create_task(worker.run())
    try:
        await add_shop(conn, SHOP_A, 1, "USD", "America/New_York")
        await credentials.save(
            conn,
            shop_id=SHOP_A,
            platform=Platform.SHOPIFY,
            secrets={"access_token": "t"},
            metadata={},
        )  # enqueues the shop's HISTORICAL_INIT
        q = queries("app_dashboard")
        first = await conn.fetchval(
            "SELECT id FROM app_dashboard.sync_jobs WHERE shop_id = $1 AND platform = 'SHOPIFY'",
            SHOP_A,
        )
        await _wait(conn, [first], 30)
        export = await _await_export(conn)
        assert export["status"] == "FAILED"
        assert export["error"]["code"] == "bigquery_not_configured"
        # The sync succeeded (and moved its cursor); the next one runs as if nothing happened.
        second = await conn.fetchval(q["enqueue_job"], SHOP_A, "SHOPIFY", "INCREMENTAL", 100, None)
        done = await _wait(conn, [first, second], 30)
        assert [done[i]["status"] for i in (first, second)] == ["SUCCEEDED", "SUCCEEDED"]
        cursor = await conn.fetchrow(
            "SELECT * FROM app_dashboard.sync_cursors WHERE shop_id = $1 AND platform = 'SHOPIFY'",
            SHOP_A,
        )
        assert cursor["last_job_id"] == second
    finally:
        worker.stop(immediate=True)
        await asyncio.wait_for(task, 30)
        await pool.close()
        await conn.close()
        bigquery_settings.cache_clear()


async def _await_export(conn: asyncpg.Connection) -> asyncpg.Record:
    for _ in range(300):
        row = await conn.fetchrow(
            "SELECT * FROM app_dashboard.sync_jobs WHERE platform = 'BIGQUERY' "
            "AND status IN ('SUCCEEDED', 'FAILED') ORDER BY id LIMIT 1"
        )
        if row is not None:
            return row
        await asyncio.sleep(0.1)
    raise AssertionError("no export job ended")


async def test_no_export_follows_a_sync_that_changed_nothing(db_dsn: str) -> None:
    conn = await db.connect(db_dsn)
    try:
        await add_shop(conn, SHOP_A, 1, "USD", "America/New_York")
        job = await conn.fetchval(
            "INSERT INTO app_dashboard.sync_jobs (shop_id, platform, job_type, status) "
            "VALUES ($1, 'META', 'INCREMENTAL', 'SUCCEEDED') RETURNING id",
            SHOP_A,
        )
        follow = queries("app_dashboard")["enqueue_follow_ups"]
        assert await conn.fetch(follow, job, ["BIGQUERY"]) == []
        await conn.execute(
            "UPDATE app_dashboard.sync_jobs SET records_synced = 5 WHERE id = $1", job
        )
        assert len(await conn.fetch(follow, job, ["BIGQUERY"])) == 1
        assert await conn.fetch(follow, job, ["BIGQUERY"]) == []  # already queued
    finally:
        await conn.close()


async def test_the_cli_enqueues_an_export_per_shop(db_dsn: str) -> None:
    env = {**os.environ, "DATABASE_URL": db_dsn}

    def storeline(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "storeline.cli", *args],
            capture_output=True,
            text=True,
            env=env,
            timeout=60,
            check=False,
        )

    conn = await db.connect(db_dsn)
    try:
        await add_shop(conn, SHOP_A, 1, "USD", "America/New_York")
        missing = await asyncio.to_thread(storeline, "export", "bigquery", "--shop", "nope")
        assert missing.returncode != 0
        assert missing.stderr.strip() == "storeline: no shop 'nope'"
        done = await asyncio.to_thread(storeline, "export", "bigquery")
        assert done.returncode == 0, done.stderr
        job = await conn.fetchrow(
            "SELECT * FROM app_dashboard.sync_jobs WHERE platform = 'BIGQUERY' AND shop_id = $1",
            SHOP_A,
        )
        assert job["status"] == "QUEUED"
        assert done.stdout.strip() == f"{SHOP_A}: BigQuery export job {job['id']} queued"
    finally:
        await conn.close()


def test_only_export_targets_can_follow_syncs() -> None:
    assert WorkerSettings(exports="bigquery").export_platforms == (Platform.BIGQUERY,)
    with pytest.raises(ValueError, match="SHOPIFY is not an export target"):
        WorkerSettings(exports="SHOPIFY")


async def test_an_unreadable_key_file_fails_the_export_without_quoting_it(
    db_dsn: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    key = tmp_path / "key.json"
    key.write_text(
        '{"type": "service_account", "client_email": "x@p.iam.gserviceaccount.com", '
        '"private_key": "-----BEGIN PRIVATE KEY-----\\nSUPERSECRETKEYMATERIAL\\n'
        '-----END PRIVATE KEY-----\\n", "token_uri": "https://oauth2.googleapis.com/token"}'
    )
    monkeypatch.setenv("STORELINE_BIGQUERY_PROJECT", "p")
    monkeypatch.setenv("STORELINE_BIGQUERY_CREDENTIALS_FILE", str(key))
    monkeypatch.delenv("STORELINE_BIGQUERY_ENDPOINT", raising=False)
    bigquery_settings.cache_clear()
    try:
        conn = await db.connect(db_dsn)
        try:
            await add_shop(conn, SHOP_A, 1, "USD", "America/New_York")
        finally:
            await conn.close()
        job = (await export(db_dsn, [SHOP_A]))[SHOP_A]
    finally:
        bigquery_settings.cache_clear()
    assert job["status"] == "FAILED"
    assert job["error"]["code"] == "bigquery_credentials"
    assert "SUPERSECRET" not in json.dumps(job["error"])
