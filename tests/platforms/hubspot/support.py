"""HubSpot connector tests: settings pointed at the sandbox, a shop with its HubSpot credential,
the real engine running the HubSpot connector, and the warehouse compared with the sandbox: each
object's state (read straight from the sandbox's plans) and its pipeline oracle."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import date, datetime
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

import asyncpg

from sandbox.hubspot import oracle, records
from sandbox.server import RunningSandbox
from sandbox.world import ShopProfile, World
from storeline.core import credentials
from storeline.core.enums import JobType, Platform
from storeline.core.sql import queries
from storeline.platforms.hubspot.connector import HubSpotConnector
from storeline.platforms.hubspot.settings import HubSpotSettings
from tests.platforms.engine import running_worker
from tests.platforms.shopify.connector_support import create_shop, wait_for


def hubspot_settings(running: RunningSandbox, **overrides: Any) -> HubSpotSettings:
    values: dict[str, Any] = {
        "base_url": running.urls["hubspot"],
        "retry_backoff_seconds": 0.01,
        "request_timeout_seconds": 30.0,
        # Above the sandbox's index lag (ShopProfile.hubspot_search_lag_seconds, 45 s).
        "search_overlap_seconds": 60.0,
        "requests_per_ten_seconds": 10_000,
        "search_requests_per_second": 1_000,
    }
    values.update(overrides)
    return HubSpotSettings(**values)


async def connect_hubspot(conn: asyncpg.Connection, shop: ShopProfile) -> int:
    """The shop and its HubSpot credential; saving it enqueues HISTORICAL_INIT (its id)."""
    await create_shop(conn, shop)
    job_id = await credentials.save(
        conn,
        shop_id=shop.shop_id,
        platform=Platform.HUBSPOT,
        secrets={"access_token": shop.hubspot_token},
        metadata={"portal_id": shop.hubspot_portal_id},
    )
    assert job_id is not None
    return job_id


async def incremental(pool: asyncpg.Pool, shop: ShopProfile) -> asyncpg.Record:
    job_id = await pool.fetchval(
        queries("app_dashboard")["enqueue_job"], shop.shop_id, Platform.HUBSPOT.value,
        JobType.INCREMENTAL.value, 100, None,
    )  # fmt: skip
    (job,) = await wait_for(pool, [job_id], ("SUCCEEDED", "FAILED"), within=60)
    return job


@asynccontextmanager
async def hubspot_engine(
    dsn: str, running: RunningSandbox, **overrides: Any
) -> AsyncIterator[list[HubSpotConnector]]:
    settings = hubspot_settings(running, **overrides)
    built: list[HubSpotConnector] = []

    def factory() -> HubSpotConnector:
        built.append(HubSpotConnector(settings))
        return built[-1]

    async with running_worker(dsn, {Platform.HUBSPOT: factory}):
        yield built


def _ts(value: str) -> datetime:
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


def _money(value: str | None) -> Decimal | None:
    return Decimal(value) if value else None


TABLES = {  # kind → (table, id column, the columns compared)
    "deals": ("crm_deals", "deal_id", "stage_id, amount, owner_id, close_date"),
    "contacts": ("crm_contacts", "contact_id", "lifecycle_stage, owner_id"),
    "companies": ("crm_companies", "company_id", "owner_id, employees"),
}


def expected(world: World, shop: ShopProfile, kind: str) -> dict[str, tuple[Any, ...]]:
    """Every object of `kind` the sandbox has now: (updated, archived, compared fields)."""
    out: dict[str, tuple[Any, ...]] = {}
    for index in range(records.exists_count(world, shop, kind)):
        st = records.load(world, shop, kind, index)
        if st is None:
            continue
        p = st.props
        if kind == "deals":
            close = _ts(p["closedate"]) if p.get("closedate") else None
            fields: tuple[Any, ...] = (
                p["dealstage"], _money(p.get("amount")), p.get("hubspot_owner_id"), close,
            )  # fmt: skip
        elif kind == "contacts":
            fields = (p.get("lifecyclestage"), p.get("hubspot_owner_id"))
        else:
            employees = p.get("numberofemployees")
            fields = (p.get("hubspot_owner_id"), int(employees) if employees else None)
        out[st.plan.id] = (st.updated, st.archived, *fields)
    return out


async def stored(
    conn: asyncpg.Connection, shop: ShopProfile, kind: str
) -> dict[str, tuple[Any, ...]]:
    table, key, columns = TABLES[kind]
    rows = await conn.fetch(
        f"SELECT {key} AS id, updated_at, archived, {columns} "
        f"FROM core_warehouse.{table} WHERE shop_id = $1",
        shop.shop_id,
    )
    return {r["id"]: tuple(r.values())[1:] for r in rows}


async def object_mismatches(
    conn: asyncpg.Connection, world: World, shop: ShopProfile, kinds: tuple[str, ...]
) -> list[str]:
    out: list[str] = []
    for kind in kinds:
        want, got = expected(world, shop, kind), await stored(conn, shop, kind)
        out += [f"{kind} {i}: missing" for i in want.keys() - got.keys()]
        out += [f"{kind} {i}: not in HubSpot" for i in got.keys() - want.keys()]
        out += [
            f"{kind} {i}: stored {got[i]} != sandbox {want[i]}"
            for i in want.keys() & got.keys()
            if got[i] != want[i]
        ]
    return out[:20]


async def pipeline_mismatches(
    conn: asyncpg.Connection, world: World, shop: ShopProfile, first: date, last: date
) -> list[str]:
    """reporting.pipeline_daily and pipeline_summary against the sandbox's HubSpot oracle."""
    out: list[str] = []
    days = {
        r["day"]: r
        for r in await conn.fetch(
            "SELECT * FROM reporting.pipeline_daily WHERE shop_id = $1", shop.shop_id
        )
    }
    for want in oracle.daily(world, shop, first, last):
        day = date.fromisoformat(want["date"])
        row = days.pop(day, None)
        got = (
            (row["deals_created"], row["deals_won"], row["deals_lost"], row["won_amount"])
            if row is not None
            else (0, 0, 0, Decimal(0))
        )
        expect = (
            want["deals_created"], want["deals_won"], want["deals_lost"],
            Decimal(want["won_amount"]),
        )  # fmt: skip
        if got != expect:
            out.append(f"{day}: (product, oracle) {got} != {expect}")
    out += [f"{day}: a row outside the oracle's days" for day in days]
    open_now = {
        r["stage_id"]: (
            r["pipeline_id"],
            r["open_deals"],
            r["open_amount"],
            r["weighted_amount"].quantize(Decimal("0.01"), ROUND_HALF_UP),
        )
        for r in await conn.fetch(
            "SELECT * FROM reporting.pipeline_summary WHERE shop_id = $1 AND open_deals > 0",
            shop.shop_id,
        )
    }
    want_now = {
        stage: (v["pipeline"], v["deals"], Decimal(v["amount"]), Decimal(v["weighted"]))
        for stage, v in oracle.pipeline_now(world, shop).items()
    }
    if open_now != want_now:
        out.append(f"open pipeline (product, oracle): {open_now} != {want_now}")
    return out


async def link_mismatches(
    conn: asyncpg.Connection, world: World, shop: ShopProfile, after_job: int
) -> list[str]:
    """Deals written by jobs after `after_job` (new or changed since): their stored contacts and
    companies against the sandbox's now."""
    rows = await conn.fetch(
        "SELECT deal_id, contact_ids, company_ids FROM core_warehouse.crm_deals "
        "WHERE shop_id = $1 AND sync_job_id > $2 AND NOT archived",
        shop.shop_id,
        after_job,
    )
    out: list[str] = []
    for row in rows:
        index = records.index_of("deals", row["deal_id"])
        assert index is not None
        st = records.load(world, shop, "deals", index)
        assert st is not None
        linked = records.to_json(world, shop, st, None, ["contacts", "companies"])
        want = {
            kind: sorted(
                a["id"] for a in linked.get("associations", {}).get(kind, {}).get("results", [])
            )
            for kind in ("contacts", "companies")
        }
        got = {"contacts": row["contact_ids"], "companies": row["company_ids"]}
        if got != want:
            out.append(f"deal {row['deal_id']}: stored {got} != sandbox {want}")
    return out
