"""Staging → core_warehouse for one Shopify job, set-based (core_warehouse/queries/shopify.sql).

Every statement is scoped to the job's staging rows and runs in the caller's transaction (the
connector calls this inside `ctx.fenced()`), so a job's warehouse writes commit or vanish with
its lease check. Re-running a job's transform is idempotent.

A backfill runs it in two parts (`ORDER_STEPS` + customers while refund details are still being
fetched, then `REFUND_STEPS`): every step of the second part reads only the orders the first
part wrote and the refund / agreement lines, so the two parts give the same rows as one. No
refund prune runs in the first part: it would drop the refunds of a rebuild's orders before
their details are staged.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import date, datetime

import asyncpg

from storeline.platforms.shopify.sql import queries

# Statement order matters: children join to the orders (and refunds) this job just wrote.
# The order side reads only order and customer lines (all staged once the bulk exports load).
ORDER_STEPS = (
    "shopify_upsert_orders",
    "shopify_upsert_line_items",
    "shopify_prune_line_items",
    "shopify_upsert_shipping_lines",
    "shopify_prune_shipping_lines",
    "shopify_upsert_transactions",
    "shopify_prune_transactions",
)
# The refund side also needs the refund details and agreements (fetched at the API's rate).
REFUND_STEPS = (
    "shopify_upsert_refunds",
    "shopify_refund_duties",
    "shopify_prune_refunds",
    "shopify_upsert_refund_line_items",
    "shopify_prune_refund_line_items",
    "shopify_upsert_refund_shipping_lines",
    "shopify_prune_refund_shipping_lines",
    "shopify_refund_adjustments",
    "shopify_upsert_order_sales",
    "shopify_prune_order_sales",
    "shopify_upsert_order_returns",
    "shopify_prune_order_returns",
)
STEPS = ORDER_STEPS + REFUND_STEPS
_WITH_TZ = {
    "shopify_upsert_orders",
    "shopify_upsert_refunds",
    "shopify_upsert_order_sales",
    "shopify_upsert_order_returns",
}


class UnknownShop(LookupError):
    """The shop is not in app_dashboard.shops, so its timezone (and its days) are unknown."""


@dataclass(frozen=True)
class TransformResult:
    """What one transform changed: rows written per step and the shop-local days that moved."""

    rows: dict[str, int] = field(default_factory=dict)
    dates: set[date] = field(default_factory=set)
    before: set[date] = field(default_factory=set)  # the days of `dates` read before any write
    orphans: int = 0  # child lines whose parent order is missing from the job (not loaded)

    @property
    def orders(self) -> int:
        return self.rows.get("shopify_upsert_orders", 0)


async def _hash_joins(conn: asyncpg.Connection, on: bool, default: str) -> None:
    """Statistics never cover the rows this very transaction just loaded (and ANALYZE would
    take a self-conflicting lock across shops), so the planner believes a job has one row and
    picks nested loops that rescan the job per row. Steps that join a job's rows to each other
    run with nested loops off (transaction-local); prunes keep them for their index probes."""
    await conn.execute(queries()["shopify_set_nestloop"], "off" if on else default)


@asynccontextmanager
async def hash_joins(conn: asyncpg.Connection) -> AsyncIterator[None]:
    """Run a block that aggregates rows this transaction just wrote with nested loops off (see
    `_hash_joins`), restoring the session's setting afterwards."""
    q = queries()
    default = str(await conn.fetchval(q["shopify_get_nestloop"]))
    await _hash_joins(conn, True, default)
    try:
        yield
    finally:
        await _hash_joins(conn, False, default)


def _count(status: str) -> int:
    """Rows affected, from a command tag such as 'INSERT 0 12' or 'DELETE 3'."""
    return int(status.rsplit(" ", 1)[-1])


def _days(records: Iterable[asyncpg.Record]) -> set[date]:
    return {r["day"] for r in records if r["day"] is not None}


async def shop_timezone(conn: asyncpg.Connection, shop_id: str) -> str:
    tz = await conn.fetchval(queries()["shopify_shop_timezone"], shop_id)
    if tz is None:
        raise UnknownShop(shop_id)
    return str(tz)


async def touched_dates(conn: asyncpg.Connection, *, job_id: int, shop_id: str) -> set[date]:
    """The days the warehouse attributes to the job's staged orders right now."""
    return _days(await conn.fetch(queries()["shopify_touched_dates"], job_id, shop_id))


async def transform(
    conn: asyncpg.Connection,
    *,
    job_id: int,
    shop_id: str,
    steps: tuple[str, ...] = STEPS,
    customers: bool = True,
) -> TransformResult:
    """Upsert the job's orders, customers and their children (`steps`, in this order; the
    default is all of them); return the touched days (each order's processing day, refund,
    edit and return days, before and after the change)."""
    q = queries()
    tz = await shop_timezone(conn, shop_id)
    async with conn.transaction():  # a savepoint inside the caller's transaction
        default = str(await conn.fetchval(q["shopify_get_nestloop"]))
        await _hash_joins(conn, True, default)
        before = await touched_dates(conn, job_id=job_id, shop_id=shop_id)
        rows: dict[str, int] = {}
        for step in steps:
            await _hash_joins(conn, "_prune_" not in step, default)
            args = (job_id, shop_id, tz) if step in _WITH_TZ else (job_id, shop_id)
            rows[step] = _count(await conn.execute(q[step], *args))
        await _hash_joins(conn, True, default)
        if customers:
            rows["shopify_upsert_customers"] = _count(
                await conn.execute(q["shopify_upsert_customers"], job_id, shop_id)
            )
        after = await touched_dates(conn, job_id=job_id, shop_id=shop_id)
        orphans = int(await conn.fetchval(q["shopify_count_orphans"], job_id, shop_id))
        await _hash_joins(conn, False, default)
    return TransformResult(rows=rows, dates=before | after, before=before, orphans=orphans)


def _order_id(value: str) -> int:
    """'gid://shopify/Order/123' or '123' → 123."""
    return int(value.rsplit("/", 1)[-1].split("?", 1)[0])


async def apply_deletions(
    conn: asyncpg.Connection, *, shop_id: str, order_ids: list[str], deleted_at: datetime
) -> set[date]:
    """Mark orders deleted in Shopify (soft delete: the raw row stays, reports drop it);
    returns the days they counted on. Unknown or already deleted orders are ignored."""
    if not order_ids:
        return set()
    ids = sorted({_order_id(v) for v in order_ids})
    records = await conn.fetch(queries()["shopify_delete_orders"], shop_id, ids, deleted_at)
    return _days(records)


async def prune_unseen(conn: asyncpg.Connection, *, shop_id: str, job_id: int) -> set[date]:
    """HISTORICAL_REBUILD: delete the shop's orders (with children) the job did not carry, and
    its customers if the job carried customers; returns the days the deleted orders counted on."""
    q = queries()
    async with conn.transaction():
        default = str(await conn.fetchval(q["shopify_get_nestloop"]))
        await _hash_joins(conn, True, default)
        days = _days(await conn.fetch(q["shopify_prune_unseen_orders"], shop_id, job_id))
        await conn.execute(q["shopify_prune_unseen_customers"], shop_id, job_id)
        await _hash_joins(conn, False, default)
    return days
