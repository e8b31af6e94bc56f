"""The BigQuery emulator (sandbox/bigquery.py, its own process, ~1-2 s to start) once per module,
the mirror's settings pointed at it, and helpers to run export jobs through the real worker."""

from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncIterator, Iterator, Mapping
from typing import Any

import asyncpg
import pytest
from google.api_core.client_options import ClientOptions
from google.auth.credentials import AnonymousCredentials
from google.cloud import bigquery

from sandbox.bigquery import PROJECT, running_bigquery
from storeline.core import db
from storeline.core.enums import JobType, Platform
from storeline.core.sql import load_folder, queries, resource
from storeline.export.bigquery.job import BigQueryExport
from storeline.export.bigquery.settings import BigQuerySettings, bigquery_settings
from storeline.worker.registry import ConnectorFactory
from tests.fixtures.db import clone_database, drop_database
from tests.platforms.engine import running_worker

WORLD = load_folder(resource("tests", "export", "bigquery"), label="tests/export/bigquery")
SHOP_A = "alpha.myshopify.com"
SHOP_B = "bravo.myshopify.com"


@pytest.fixture(scope="module")
def bigquery_endpoint() -> Iterator[str]:
    with running_bigquery() as endpoint:
        yield endpoint


@pytest.fixture(scope="module")
def bq_settings(bigquery_endpoint: str) -> Iterator[BigQuerySettings]:
    """STORELINE_BIGQUERY_* for this module: the emulator, no credentials."""
    saved = dict(os.environ)
    os.environ["STORELINE_BIGQUERY_PROJECT"] = PROJECT
    os.environ["STORELINE_BIGQUERY_ENDPOINT"] = bigquery_endpoint
    os.environ["STORELINE_BIGQUERY_BATCH_ROWS"] = "50"  # several Parquet batches per table
    bigquery_settings.cache_clear()
    yield bigquery_settings()
    os.environ.clear()
    os.environ.update(saved)
    bigquery_settings.cache_clear()


@pytest.fixture(scope="module")
def bq(bigquery_endpoint: str) -> Iterator[bigquery.Client]:
    client = bigquery.Client(
        project=PROJECT,
        credentials=AnonymousCredentials(),  # type: ignore[no-untyped-call]
        client_options=ClientOptions(api_endpoint=bigquery_endpoint),
    )
    yield client
    client.close()


@pytest.fixture(scope="module")
def module_dsn(pg_admin_dsn: str, template_db: str) -> Iterator[str]:
    """One migrated database for the whole module (its tests build on each other's state)."""
    from storeline.core.dsn import with_database

    name = clone_database(pg_admin_dsn, template_db)
    yield with_database(pg_admin_dsn, name)
    drop_database(pg_admin_dsn, name)


async def add_shop(
    conn: asyncpg.Connection, shop: str, orders: int, currency: str, tz: str
) -> None:
    await conn.execute(WORLD["world_agency"])
    await conn.execute(WORLD["world_shop"], shop, orders, currency, tz)


async def export(
    dsn: str,
    shops: list[str],
    connectors: Mapping[Platform, ConnectorFactory] | None = None,
    *,
    within: float = 60.0,
) -> dict[str, asyncpg.Record]:
    """Enqueue a BIGQUERY job per shop, run the real worker until each has ended; the job rows."""
    conn = await db.connect(dsn)
    try:
        ids = {
            shop: await conn.fetchval(
                queries("app_dashboard")["enqueue_job"],
                shop,
                Platform.BIGQUERY,
                JobType.INCREMENTAL,
                50,
                None,
            )
            for shop in shops
        }
        async with running_worker(dsn, connectors or {Platform.BIGQUERY: BigQueryExport}):
            rows = await _wait(conn, list(ids.values()), within)
        return {shop: rows[job_id] for shop, job_id in ids.items()}
    finally:
        await conn.close()


async def _wait(
    conn: asyncpg.Connection, ids: list[int], within: float
) -> dict[int, asyncpg.Record]:
    deadline = asyncio.get_running_loop().time() + within
    while True:
        rows = await conn.fetch(
            "SELECT * FROM app_dashboard.sync_jobs WHERE id = ANY ($1::bigint[])", ids
        )
        if all(r["status"] in ("SUCCEEDED", "FAILED", "CANCELLED") for r in rows):
            return {r["id"]: r for r in rows}
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"jobs did not end: {[dict(r) for r in rows]}")
        await asyncio.sleep(0.1)


def rows(client: bigquery.Client, sql: str) -> list[dict[str, Any]]:
    return [dict(r.items()) for r in client.query(sql).result()]


@pytest.fixture
async def module_conn(module_dsn: str) -> AsyncIterator[asyncpg.Connection]:
    conn = await db.connect(module_dsn)
    yield conn
    await conn.close()
