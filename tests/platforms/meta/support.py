"""Meta connector tests: settings pointed at the sandbox, a shop with its Meta credential, the
real engine running the Meta connector, and the warehouse compared with the sandbox's oracle."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import date
from decimal import Decimal
from typing import Any

import asyncpg

from sandbox.meta import oracle
from sandbox.server import RunningSandbox
from sandbox.world import ShopProfile
from storeline.core import credentials
from storeline.core.enums import Platform
from storeline.platforms.meta.connector import MetaConnector
from storeline.platforms.meta.settings import MetaSettings
from tests.platforms.engine import running_worker
from tests.platforms.shopify.connector_support import create_shop


def meta_settings(running: RunningSandbox, **overrides: Any) -> MetaSettings:
    values: dict[str, Any] = {
        "base_url": running.urls["meta"],
        "retry_backoff_seconds": 0.01,
        "poll_min_seconds": 0.01,
        "poll_max_seconds": 0.05,
        "usage_pause_seconds": 0.2,
        "usage_slow_seconds": 0.0,
        "chunk_days": 90,
    }
    values.update(overrides)
    return MetaSettings(**values)


async def connect_meta(conn: asyncpg.Connection, shop: ShopProfile) -> int:
    """The shop and its Meta credential; saving it enqueues HISTORICAL_INIT (its id)."""
    await create_shop(conn, shop)
    job_id = await credentials.save(
        conn,
        shop_id=shop.shop_id,
        platform=Platform.META,
        secrets={"access_token": shop.meta_token},
        metadata={"ad_account_ids": [shop.meta_ad_account_id]},
    )
    assert job_id is not None
    return job_id


@asynccontextmanager
async def meta_engine(
    dsn: str, running: RunningSandbox, **overrides: Any
) -> AsyncIterator[list[MetaConnector]]:
    settings = meta_settings(running, **overrides)
    built: list[MetaConnector] = []

    def factory() -> MetaConnector:
        built.append(MetaConnector(settings))
        return built[-1]

    async with running_worker(dsn, {Platform.META: factory}):
        yield built


DAILY = """
SELECT day, currency, spend, impressions, clicks, purchases, purchase_value
FROM core_warehouse.fact_marketing_daily
WHERE shop_id = $1 AND platform = 'META'
ORDER BY day
"""


async def daily_mismatches(
    conn: asyncpg.Connection, running: RunningSandbox, shop: ShopProfile, first: date, last: date
) -> list[str]:
    """Days where the warehouse's daily Meta figures differ from the oracle's (days without
    delivery must have no row, or a zero row)."""
    stored = {r["day"]: r for r in await conn.fetch(DAILY, shop.shop_id)}
    out: list[str] = []
    for expected in oracle.daily(running.world, shop, first, last):
        day = date.fromisoformat(expected["date"])
        row = stored.pop(day, None)
        got = (
            (str(row["currency"]), Decimal(row["spend"]), int(row["impressions"]),
             int(row["clicks"]), Decimal(row["purchases"]), Decimal(row["purchase_value"]))
            if row is not None
            else (expected["currency"], Decimal(0), 0, 0, Decimal(0), Decimal(0))
        )  # fmt: skip
        want = (
            expected["currency"], Decimal(expected["spend"]), int(expected["impressions"]),
            int(expected["clicks"]), Decimal(expected["purchases"]),
            Decimal(expected["purchase_value"]),
        )  # fmt: skip
        if got != want:
            out.append(f"{day}: (product, oracle) {got} != {want}")
    out += [f"{day}: a row outside the oracle's days" for day in stored]
    return out
