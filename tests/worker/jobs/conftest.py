"""Engine test helpers: shops with credentials (saving one enqueues HISTORICAL_INIT), short
timings, a worker running in this process, and a worker running as a real subprocess."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator, Mapping
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import asyncpg
import pytest

from storeline.core import credentials, db
from storeline.core.enums import Platform
from storeline.worker.jobs.runner import Worker
from storeline.worker.settings import WorkerSettings
from tests.fixtures.db import TEST_KEYS
from tests.worker.jobs import fakes

ROOT = Path(__file__).resolve().parents[3]
AGENCY = uuid.UUID("aaaaaaaa-0000-0000-0000-00000000000a")
FAKE = "tests.worker.jobs.fakes:FakeConnector"
SECRETS: dict[Platform, dict[str, str]] = {
    Platform.SHOPIFY: {"access_token": "shpat_test"},
    Platform.META: {"access_token": "EAAtest"},
    Platform.GA4: {"client_id": "c", "client_secret": "s", "refresh_token": "r"},
    Platform.HUBSPOT: {"access_token": "pat-na1-test"},
}

# Fast but proportionate: heartbeat = lease/3, reaper well inside a lease.
FAST: dict[str, Any] = {
    "slots": 4,
    "lease_seconds": 1.5,
    "reap_interval_seconds": 0.3,
    "poll_interval_seconds": 0.2,
    "grace_seconds": 1.0,
    "cancel_grace_seconds": 0.5,
    "backoff_base_seconds": 0.05,
    "backoff_cap_seconds": 0.2,
    "scheduler": False,
}


def fast_settings(**overrides: Any) -> WorkerSettings:
    return WorkerSettings(**{**FAST, **overrides})


@pytest.fixture
async def jobs_db(conn: asyncpg.Connection) -> asyncpg.Connection:
    """The test database with an agency and the fake connector's table."""
    await conn.execute(
        "INSERT INTO app_dashboard.agencies (id, name) VALUES ($1, 'Agency')", AGENCY
    )
    await conn.execute(fakes.SQL["create_fake_rows"])
    fakes.ACTIVE.clear()
    fakes.OVERLAPS.clear()
    return conn


async def add_shop(
    conn: asyncpg.Connection,
    name: str,
    platforms: tuple[Platform, ...] = (Platform.SHOPIFY,),
    agency: uuid.UUID = AGENCY,
    **metadata: Any,
) -> str:
    """A shop connected on `platforms`; each connection enqueues its HISTORICAL_INIT."""
    shop_id = f"{name}.myshopify.com"
    await conn.execute(
        "INSERT INTO app_dashboard.shops (id, name, currency, timezone, agency_id) "
        "VALUES ($1, $2, 'EUR', 'Europe/Berlin', $3)",
        shop_id,
        name,
        agency,
    )
    for platform in platforms:
        await credentials.save(
            conn,
            shop_id=shop_id,
            platform=platform,
            secrets=SECRETS[platform],
            metadata=metadata,
        )
    return shop_id


async def set_metadata(conn: asyncpg.Connection, shop_id: str, **metadata: Any) -> None:
    await conn.execute(
        "UPDATE app_dashboard.shop_credentials SET metadata = $2 WHERE shop_id = $1",
        shop_id,
        metadata,
    )


async def job_row(conn: asyncpg.Connection, job_id: int) -> asyncpg.Record:
    row = await conn.fetchrow("SELECT * FROM app_dashboard.sync_jobs WHERE id = $1", job_id)
    assert row is not None
    return row


async def only_job(conn: asyncpg.Connection, shop_id: str) -> int:
    ids = await conn.fetch(
        "SELECT id FROM app_dashboard.sync_jobs WHERE shop_id = $1 ORDER BY id", shop_id
    )
    assert len(ids) == 1, ids
    return int(ids[0]["id"])


async def wait_until(
    check: Callable[[], Awaitable[Any]], *, within: float = 10.0, every: float = 0.05
) -> Any:
    """Poll `check` until it returns something truthy; fail with the last value on timeout."""
    deadline = time.monotonic() + within
    value = None
    while time.monotonic() < deadline:
        value = await check()
        if value:
            return value
        await asyncio.sleep(every)
    raise AssertionError(f"condition not met within {within} s (last value: {value!r})")


async def status_of(conn: asyncpg.Connection, job_id: int) -> str:
    return str(
        await conn.fetchval("SELECT status FROM app_dashboard.sync_jobs WHERE id = $1", job_id)
    )


@asynccontextmanager
async def running_worker(
    dsn: str, settings: WorkerSettings, *, listen: bool = True, worker_id: str | None = None
) -> AsyncIterator[Worker]:
    """A Worker with the fake connector for every platform, running in this event loop."""
    pool = await db.create_pool(dsn, min_size=1, max_size=settings.slots * 2 + 2)
    engine_pool = await db.create_pool(dsn, min_size=1, max_size=5)
    worker = Worker(
        pool=pool,
        engine_pool=engine_pool,
        settings=settings,
        connectors=dict.fromkeys(Platform, fakes.FakeConnector),
        listen_dsn=dsn if listen else None,
        worker_id=worker_id,
    )
    task = asyncio.create_task(worker.run())
    try:
        yield worker
    finally:
        worker.stop(immediate=True)
        await asyncio.wait_for(task, 30)
        await pool.close()
        await engine_pool.close()


@pytest.fixture
def spawn_worker(db_dsn: str) -> Iterator[Callable[..., subprocess.Popen[str]]]:
    """Start `python -m worker.main` against the test database with the fake connector."""
    procs: list[subprocess.Popen[str]] = []

    def spawn(settings: Mapping[str, Any], *args: str) -> subprocess.Popen[str]:
        env = {
            **os.environ,
            "DATABASE_URL": db_dsn,
            "STORELINE_ENCRYPTION_KEYS": TEST_KEYS,
            "STORELINE_LOG_FORMAT": "json",
            "STORELINE_WORKER_CONNECTORS": f"*={FAKE}",
            **{f"STORELINE_WORKER_{k.upper()}": str(v) for k, v in settings.items()},
        }
        proc = subprocess.Popen(
            [sys.executable, "-m", "storeline.worker.main", *args],
            cwd=ROOT,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        procs.append(proc)
        return proc

    yield spawn
    for proc in procs:
        if proc.poll() is None:
            proc.kill()
        proc.communicate(timeout=10)
