"""The ad account's edges: the AdAccount node, sync insights pages, and async report runs.

Sync insights refuse requests that would scan too much (days * ads over `SYNC_CELL_LIMIT`) with
Meta's "Please reduce the amount of data" error — a full 37-month backfill of a big account has
to go through an async report run, as on the real API.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from sandbox.meta import errors
from sandbox.meta.generate import local_today
from sandbox.meta.paging import page, url
from sandbox.meta.params import InsightsQuery, parse_insights
from sandbox.meta.render import Entry, entries
from sandbox.meta.reports import ReportRegistry, ReportRun
from sandbox.meta.structure import Account, account_for
from sandbox.world import ShopProfile, World

SYNC_CELL_LIMIT = 20_000


@dataclass(frozen=True)
class AccountInsights:
    world: World
    shop: ShopProfile
    account: Account

    @classmethod
    def of(cls, world: World, shop: ShopProfile) -> AccountInsights:
        return cls(world, shop, account_for(world, shop))

    def query(self, params: Mapping[str, str], now: datetime) -> InsightsQuery:
        return parse_insights(params, local_today(self.account, now), self.account.created)

    def cells(self, query: InsightsQuery) -> int:
        return query.days * len(self.account.ads)

    def account_node(self, fields: list[str]) -> dict[str, Any]:
        a = self.account
        now = self.world.now().astimezone(ZoneInfo(a.timezone))
        offset = now.utcoffset()
        hours = offset.total_seconds() / 3600 if offset is not None else 0.0
        node: dict[str, Any] = {
            "id": a.id,
            "account_id": a.number,
            "name": a.name,
            "currency": a.currency,
            "timezone_name": a.timezone,
            "timezone_offset_hours_utc": hours,
            "account_status": 1,
            "created_time": f"{a.created.isoformat()}T09:00:00+0000",
        }
        wanted = set(fields) | {"id"}
        return {k: v for k, v in node.items() if k in wanted}

    def _entries(self, query: InsightsQuery, as_of: datetime) -> Any:
        def produce(after: int) -> Iterator[Entry]:
            return entries(self.account, self.world.seed, query, as_of, after)

        return produce

    def sync_page(self, params: Mapping[str, str], origin: str, path: str) -> dict[str, Any]:
        now = self.world.now()
        query = self.query(params, now)
        if self.cells(query) > SYNC_CELL_LIMIT:
            raise errors.reduce_data()
        return page(
            self._entries(query, now),
            params,
            query.limit,
            lambda p: url(origin, path, p),
        )

    def create_run(
        self, registry: ReportRegistry, params: Mapping[str, str], fail: Callable[[], bool]
    ) -> ReportRun:
        """Validate, then create; `fail()` (consuming a bulk_failed fault) runs only when valid."""
        now = self.world.now()
        query = self.query(params, now)
        return registry.create(
            self.shop.shop_id, self.account.number, query, now, self.cells(query), fail()
        )

    def run_page(
        self, run: ReportRun, params: Mapping[str, str], origin: str, version: str
    ) -> dict[str, Any]:
        if run.status != "Job Completed":
            raise errors.report_not_ready()
        limit = int(params.get("limit", "25")) if params.get("limit", "").isdigit() else 25
        path = f"/{version}/{run.id}/insights"
        return page(
            self._entries(run.query, run.as_of),
            params,
            max(1, min(limit, 5000)),
            lambda p: url(origin, path, p),
        )
