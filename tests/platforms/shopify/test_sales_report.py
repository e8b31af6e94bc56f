"""Shopify's own report (shopifyqlQuery) beside the product's figures, end to end: the real worker
backfills a sandbox shop over HTTP and the API is read over HTTP.

- first numbers: while the backfill runs (held before its rollup by a table lock) the metrics API
  serves Shopify's daily figures marked provisional; afterwards the order-level ones, checked
  against Shopify's report and agreeing on every day;
- drift (`report_drift` fault): the drifted day disagrees by the drift, in sync status and
  metrics, and the sync still succeeds;
- no `read_reports` scope: "not verified", never a failed sync, and no provisional figures.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

import asyncpg
import httpx
import pytest

from sandbox import server
from sandbox.faults import FaultKind
from sandbox.server import RunningSandbox
from sandbox.shopify import oracle, shopifyql
from sandbox.shopify.days import local_day
from sandbox.world import ShopProfile, World
from storeline.api.app import create_app
from storeline.api.settings import ApiSettings
from storeline.platforms.shopify.sales_report import ReportError, _days, history, spans
from tests.api.conftest import SECRET, ServedApi, sign
from tests.platforms.shopify.connector_support import connect_shop, engine, wait_for

KIRI, BERLIN, AURORA = (f"{h}.myshopify.com" for h in ("kiri-surf", "berlin-botanics",
                                                        "aurora-goods"))  # fmt: skip
MONEY = ("gross_sales", "discounts", "returns", "net_sales", "shipping", "taxes", "duties",
         "additional_fees", "total_sales")  # fmt: skip
DONE = ("SUCCEEDED", "FAILED", "CANCELLED")


@pytest.fixture(scope="module")
def running() -> Iterator[RunningSandbox]:
    """One sandbox for the module: each test uses its own shop (faults and scopes are per shop)."""
    started = server.start(World.build(seed=7, size="tiny"), platforms=["shopify"])
    yield started
    started.stop()


@pytest.fixture
async def api(db_dsn: str) -> AsyncIterator[httpx.AsyncClient]:
    served = ServedApi(create_app(ApiSettings(jwt_secret=SECRET), dsn=db_dsn))
    try:
        async with httpx.AsyncClient(base_url=served.url, timeout=10) as client:
            yield client
    finally:
        served.stop()


async def connect(pool: asyncpg.Pool, shop: ShopProfile) -> tuple[int, dict[str, str]]:
    """Connect the shop (enqueues HISTORICAL_INIT) and an owner who sees it: (job, headers)."""
    user = uuid.uuid4()
    async with pool.acquire() as conn:
        job = await connect_shop(conn, shop)
        await conn.execute(
            "INSERT INTO app_dashboard.users (id, email, role, agency_id) "
            "SELECT $1, $2, 'AGENCY_OWNER', agency_id FROM app_dashboard.shops WHERE id = $3",
            user, f"{user}@test", shop.shop_id,
        )  # fmt: skip
        await conn.execute(
            "INSERT INTO app_dashboard.user_shops (user_id, shop_id, is_default) "
            "VALUES ($1, $2, true)",
            user, shop.shop_id,
        )  # fmt: skip
    return job, {"Authorization": f"Bearer {sign(user)}"}


def last_days(running: RunningSandbox, shop: ShopProfile, count: int) -> tuple[date, date]:
    today = local_day(running.world.now(), shop.timezone)
    return today - timedelta(days=count - 1), today


async def metrics(
    api: httpx.AsyncClient, headers: dict[str, str], shop: ShopProfile, span: tuple[date, date]
) -> dict[str, Any]:
    params = {"from": span[0].isoformat(), "to": span[1].isoformat()}
    resp = await api.get(f"/api/shops/{shop.shop_id}/metrics", params=params, headers=headers)
    assert resp.status_code == 200, resp.text
    body: dict[str, Any] = resp.json()
    return body


async def sync_report(
    api: httpx.AsyncClient, headers: dict[str, str], shop: ShopProfile
) -> dict[str, Any]:
    resp = await api.get(f"/api/shops/{shop.shop_id}/sync-status", headers=headers)
    assert resp.status_code == 200, resp.text
    report: dict[str, Any] = resp.json()["shopify_report"]
    return report


def oracle_days(
    running: RunningSandbox, shop: ShopProfile, span: tuple[date, date]
) -> dict[str, dict[str, Any]]:
    """Shopify's figures as the sandbox's oracle computes them, by ISO day."""
    return {r["date"]: r for r in oracle.daily(running.world, shop, *span)}


def same_figures(day: dict[str, Any], want: dict[str, Any]) -> bool:
    return day["orders"] == want["orders"] and all(
        Decimal(day[m]) == Decimal(want[m]) for m in MONEY
    )


async def succeeded(pool: asyncpg.Pool, job: int) -> None:
    (row,) = await wait_for(pool, [job], DONE)
    assert row["status"] == "SUCCEEDED", row["error"]


async def test_first_figures_are_provisional_until_order_level_data_lands(
    db_dsn: str, pool: asyncpg.Pool, running: RunningSandbox, api: httpx.AsyncClient
) -> None:
    shop = running.world.shops[KIRI]
    span = last_days(running, shop, 30)
    want = oracle_days(running, shop, span)
    assert sum(w["orders"] for w in want.values()) > 0
    job, headers = await connect(pool, shop)
    hold = await asyncpg.connect(db_dsn)  # holds the backfill before its rollup
    held = hold.transaction()
    await held.start()
    await hold.execute("LOCK TABLE reporting.shop_daily_kpis IN EXCLUSIVE MODE")
    try:
        async with engine(db_dsn, running):
            deadline = time.monotonic() + 60
            while (body := await metrics(api, headers, shop, span))["shopify_report"][
                "provisional_days"
            ] < 30:
                assert time.monotonic() < deadline, body["shopify_report"]
                await asyncio.sleep(0.05)
            async with pool.acquire() as conn:
                status = await conn.fetchval(
                    "SELECT status FROM app_dashboard.sync_jobs WHERE id = $1", job
                )
            assert status == "IN_PROGRESS"  # the backfill has not landed
            assert all(d["provisional"] and d["shopify_report"] is None for d in body["daily"])
            assert all(same_figures(d, want[d["day"]]) for d in body["daily"])
            total = sum(Decimal(w["total_sales"]) for w in want.values())
            assert Decimal(body["kpis"]["total_sales"]) == total
            during = await sync_report(api, headers, shop)
            assert during["status"] == "pending"
            assert during["provisional_days"] >= 30
            await held.rollback()
            await succeeded(pool, job)
    finally:
        await hold.close()
    body = await metrics(api, headers, shop, span)
    assert not any(d["provisional"] for d in body["daily"])
    assert all(same_figures(d, want[d["day"]]) for d in body["daily"])
    assert all(d["shopify_report"] == {"agrees": True, "differences": {}} for d in body["daily"])
    assert body["shopify_report"] | {"checked_at": None} == {
        "status": "checked", "reason": None, "checked_at": None, "days_agreeing": 30,
        "days_disagreeing": 0, "provisional_days": 0,
    }  # fmt: skip
    after = await sync_report(api, headers, shop)
    assert after["status"] == "checked"
    assert after["job_id"] == job
    assert after["days_disagreeing"] == 0
    assert after["disagreements"] == []
    assert after["provisional_days"] == 0


async def test_report_drift_shows_as_disagreement_by_the_drift(
    db_dsn: str, pool: asyncpg.Pool, running: RunningSandbox, api: httpx.AsyncClient
) -> None:
    shop = running.world.shops[BERLIN]
    span = last_days(running, shop, 14)
    drifted = (span[1] - timedelta(days=3)).isoformat()
    running.world.faults.inject(
        "shopify", shop.shop_id, FaultKind.REPORT_DRIFT, times=None, amount="2.50", day=drifted
    )
    try:
        job, headers = await connect(pool, shop)
        async with engine(db_dsn, running):
            await succeeded(pool, job)
    finally:
        running.world.faults.clear("shopify", shop.shop_id)
    body = await metrics(api, headers, shop, span)
    checks = {d["day"]: d["shopify_report"] for d in body["daily"]}
    off = checks.pop(drifted)
    assert off["agrees"] is False
    assert {k: Decimal(v) for k, v in off["differences"].items()} == {
        m: Decimal("-2.50") if m in ("discounts", "returns") else Decimal("2.50") for m in MONEY
    }
    assert all(c == {"agrees": True, "differences": {}} for c in checks.values())
    assert body["shopify_report"]["days_disagreeing"] == 1
    assert body["shopify_report"]["days_agreeing"] == 13
    report = await sync_report(api, headers, shop)
    assert report["status"] == "checked"
    assert report["days_disagreeing"] == 1
    (disagreement,) = report["disagreements"]
    assert disagreement["day"] == drifted
    assert Decimal(disagreement["differences"]["total_sales"]) == Decimal("2.50")


async def test_without_read_reports_the_sync_succeeds_not_verified(
    db_dsn: str, pool: asyncpg.Pool, running: RunningSandbox, api: httpx.AsyncClient
) -> None:
    shop = running.world.shops[AURORA]
    shopifyql.revoke_reports_scope(running.world, shop.shop_id)
    span = last_days(running, shop, 7)
    job, headers = await connect(pool, shop)
    async with engine(db_dsn, running):
        await succeeded(pool, job)
    report = await sync_report(api, headers, shop)
    assert report["status"] == "not_verified"
    assert "read_reports" in report["reason"]
    assert report["days_agreeing"] == report["days_disagreeing"] == 0
    assert report["provisional_days"] == 0
    body = await metrics(api, headers, shop, span)
    assert body["shopify_report"]["status"] == "not_verified"
    assert all(not d["provisional"] and d["shopify_report"] is None for d in body["daily"])
    want = oracle_days(running, shop, span)
    assert all(same_figures(d, want[d["day"]]) for d in body["daily"])
    async with pool.acquire() as conn:
        stored = await conn.fetchval("SELECT count(*) FROM reporting.shopify_reported_daily")
    assert stored == 0


# --- reading ShopifyQL answers (no HTTP needed) ---------------------------------------------------


def test_rows_as_lists_and_positive_signs_are_read_too() -> None:
    columns = [{"name": n} for n in ("day", "gross_sales", "discounts", "returns", "net_sales")]
    table = {"columns": columns, "rows": [["2026-01-02", "100.00", "10.00", "5.00", "85.00"]]}
    (day,) = _days(table, ["gross_sales", "discounts", "returns", "net_sales"])
    assert day.day == date(2026, 1, 2)
    assert day.figures == {"gross_sales": Decimal("100.00"), "discounts": Decimal("10.00"),
                           "returns": Decimal("5.00"), "net_sales": Decimal("85.00")}  # fmt: skip
    with pytest.raises(ReportError):
        _days({"columns": columns, "rows": None}, ["gross_sales"])


def test_history_and_spans_ask_for_bounded_ranges() -> None:
    assert list(history(731, 366)) == [("-30d", "today"), ("-396d", "-31d"), ("-730d", "-397d")]
    assert list(history(3, 366)) == [("-2d", "today")]
    days = [date(2026, 1, 1), date(2026, 1, 3), date(2027, 6, 1)]
    assert spans(days, 366) == [(date(2026, 1, 1), date(2026, 1, 3)), (date(2027, 6, 1),) * 2]
