"""GA4 connector tests: settings pointed at the sandbox, a shop with its GA4 credential, the real
engine running the GA4 connector, and the warehouse compared with the sandbox's oracle."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import date
from decimal import Decimal
from typing import Any

import asyncpg

from sandbox.ga4 import oracle
from sandbox.server import RunningSandbox
from sandbox.world import ShopProfile
from storeline.core import credentials
from storeline.core.enums import Platform
from storeline.platforms.ga4.connector import Ga4Connector
from storeline.platforms.ga4.settings import Ga4Settings
from tests.platforms.engine import running_worker
from tests.platforms.shopify.connector_support import create_shop


def ga4_settings(running: RunningSandbox, **overrides: Any) -> Ga4Settings:
    base = running.urls["ga4"]
    values: dict[str, Any] = {
        "base_url": base,
        "token_url": f"{base}/token",
        "retry_backoff_seconds": 0.01,
        "quota_retry_seconds": 0.05,
        "max_quota_wait_seconds": 1.0,
        "retention_months": 1,  # a month of the tiny world's 120 days keeps tests fast
        "concurrency": 8,
    }
    values.update(overrides)
    return Ga4Settings(**values)


async def connect_ga4(conn: asyncpg.Connection, shop: ShopProfile) -> int:
    """The shop and its GA4 credential; saving it enqueues HISTORICAL_INIT (its id)."""
    await create_shop(conn, shop)
    job_id = await credentials.save(
        conn,
        shop_id=shop.shop_id,
        platform=Platform.GA4,
        secrets={
            "client_id": shop.ga4_client_id,
            "client_secret": shop.ga4_client_secret,
            "refresh_token": shop.ga4_refresh_token,
        },
        metadata={"property_id": shop.ga4_property_id},
    )
    assert job_id is not None
    return job_id


@asynccontextmanager
async def ga4_engine(
    dsn: str, running: RunningSandbox, **overrides: Any
) -> AsyncIterator[list[Ga4Connector]]:
    settings = ga4_settings(running, **overrides)
    built: list[Ga4Connector] = []

    def factory() -> Ga4Connector:
        built.append(Ga4Connector(settings))
        return built[-1]

    async with running_worker(dsn, {Platform.GA4: factory}):
        yield built


TOTALS = """
SELECT day, sessions, users, new_users, engaged_sessions, key_events, transactions,
       purchase_revenue, currency, data_loss_from_other_row, subject_to_thresholding, final
FROM core_warehouse.fact_web_traffic_day_totals
WHERE shop_id = $1
ORDER BY day
"""
FIGURES = (
    "sessions", "users", "new_users", "engaged_sessions", "key_events", "transactions",
    "purchase_revenue", "currency", "data_loss_from_other_row", "subject_to_thresholding",
    "final",
)  # fmt: skip


def _value(figure: str, value: Any) -> Any:
    if figure in ("purchase_revenue", "key_events"):
        return Decimal(str(value))
    return value


async def daily_mismatches(
    conn: asyncpg.Connection, running: RunningSandbox, shop: ShopProfile, first: date, last: date
) -> list[str]:
    """Days where the warehouse's day totals differ from the oracle's (a day without sessions
    must have no row). Users are the date-only request's, so they must equal the oracle's."""
    stored = {r["day"]: r for r in await conn.fetch(TOTALS, shop.shop_id)}
    out: list[str] = []
    for expected in oracle.daily(running.world, shop, first, last):
        day = date.fromisoformat(expected["date"])
        row = stored.pop(day, None)
        if row is None:
            if expected["sessions"]:
                out.append(f"{day}: missing")
            continue
        got = tuple(_value(f, row[f]) for f in FIGURES)
        want = tuple(_value(f, expected[f]) for f in FIGURES)
        if got != want:
            out.append(f"{day}: (product, oracle) {got} != {want}")
    out += [f"{day}: a row outside the oracle's days" for day in stored if not first <= day <= last]
    return out
