"""Meta data properties: determinism, scaling, and the clock (accrual and restatement)."""

from __future__ import annotations

import json
from datetime import date, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

import httpx

from sandbox import server
from sandbox.meta import oracle
from sandbox.meta.generate import day_rows
from sandbox.meta.structure import account_for
from sandbox.world import ShopProfile, World

V = "v26.0"


def pull(base: str, shop: ShopProfile, since: date, until: date) -> list[bytes]:
    """Raw page bodies of a full paged pull, byte for byte."""
    pages = []
    with httpx.Client(base_url=base, timeout=30) as client:
        r = client.get(
            f"/{V}/{shop.meta_ad_account_id}/insights",
            params={
                "access_token": shop.meta_token,
                "level": "ad",
                "time_increment": "1",
                "limit": "400",
                "fields": "ad_id,spend,impressions,reach,clicks,actions,action_values",
                "action_attribution_windows": "1d_click,7d_click,28d_click,1d_view",
                "time_range": json.dumps({"since": str(since), "until": str(until)}),
            },
        )
        while True:
            assert r.status_code == 200, r.text
            pages.append(r.content)
            nxt = r.json().get("paging", {}).get("next")
            if not nxt:
                return pages
            r = client.get(nxt)


def rows_of(pages: list[bytes]) -> dict[tuple[str, str], dict[str, Any]]:
    out = {}
    for page in pages:
        for row in json.loads(page)["data"]:
            out[(row["date_start"], row["ad_id"])] = row
    return out


def test_same_seed_same_bytes_other_seed_other_data() -> None:
    bodies = []
    for seed in (7, 7, 8):
        world = World.build(seed=seed, size="tiny")
        running = server.start(world, ["meta"])
        try:
            shop = next(iter(world.shops.values()))
            pages = pull(running.urls["meta"], shop, world.history_start(shop), date(2026, 11, 1))
            port = running.urls["meta"].rsplit(":", 1)[1].encode()
            bodies.append([p.replace(port, b"PORT") for p in pages])  # next links name the port
        finally:
            running.stop()
    assert bodies[0] == bodies[1]
    assert bodies[0] != bodies[2]


def test_structure_ids_and_magnitudes() -> None:
    world = World.build(seed=7, size="small")
    for shop in world.shops.values():
        account = account_for(world, shop)
        assert 12 <= len(account.ads) <= 54
        assert len({ad.adset.campaign.id for ad in account.ads}) in range(3, 7)
        assert all(len(ad.id) == 18 and ad.id.isdigit() for ad in account.ads)
        assert account.currency == shop.currency
        since = world.anchor.date() - timedelta(days=60)
        days = oracle.daily(world, shop, since, world.anchor.date() - timedelta(days=31))
        spend = sum(Decimal(d["spend"]) for d in days) / len(days)
        purchases = sum(d["purchases"] for d in days) / len(days)
        # Budgets scale with the shop: spend ~ 5-40 % of revenue, Meta claims some orders.
        assert 0.05 * shop.orders_per_day * 55 < spend < 0.4 * shop.orders_per_day * 110
        assert 0.1 * shop.orders_per_day < purchases < shop.orders_per_day
        roas = sum(Decimal(d["purchase_value"]) for d in days) / (spend * len(days))
        assert Decimal("0.8") < roas < Decimal(6)


def test_clock_accrues_today_and_restates_the_trailing_days() -> None:
    world = World.build(seed=7, size="tiny")
    running = server.start(world, ["meta"])
    try:
        changed_conversions = 0
        for shop in world.shops.values():
            today = world.now().astimezone(ZoneInfo(shop.timezone)).date()
            since = today - timedelta(days=45)
            before = rows_of(pull(running.urls["meta"], shop, since, today + timedelta(days=2)))
            oracle_before = {d["date"]: d for d in oracle.daily(world, shop, since, today)}
            world.advance(timedelta(hours=8))
            after = rows_of(pull(running.urls["meta"], shop, since, today + timedelta(days=2)))
            # Today's delivery grew; rows for days long past are untouched.
            spend = {
                when: sum(Decimal(r["spend"]) for (d, _), r in rows.items() if d == str(today))
                for when, rows in (("before", before), ("after", after))
            }
            assert spend["after"] > spend["before"] > 0
            old = str(today - timedelta(days=30))
            assert {k: v for k, v in before.items() if k[0] < old} == {
                k: v for k, v in after.items() if k[0] < old
            }
            # Conversions only ever rise, and some of the last days' did.
            for key, row in after.items():
                if key[0] == str(today) or key not in before:
                    continue
                for entry in row.get("actions", []):
                    then = _entry(before[key], entry["action_type"])
                    for window in ("value", "28d_click"):
                        assert int(entry.get(window, 0)) >= int(then.get(window, 0))
                if row.get("actions") != before[key].get("actions"):
                    assert key[0] >= str(today - timedelta(days=28))
                    changed_conversions += 1
            now_oracle = {d["date"]: d for d in oracle.daily(world, shop, since, today)}
            assert now_oracle[str(today)]["spend"] != oracle_before[str(today)]["spend"]
            world.advance(timedelta(hours=16))
        assert changed_conversions > 3
    finally:
        running.stop()


def _entry(row: dict[str, Any], action_type: str) -> dict[str, str]:
    for entry in row.get("actions", []):
        if entry["action_type"] == action_type:
            return dict(entry)
    return {}


def test_new_days_and_new_campaigns_appear_as_the_clock_moves() -> None:
    world = World.build(seed=7, size="tiny")
    shop = next(iter(world.shops.values()))
    account = account_for(world, shop)
    today = world.now().date()
    (late,) = [c for c in {ad.adset.campaign for ad in account.ads} if c.start > today]
    assert oracle.daily(world, shop, today + timedelta(days=1), late.start)[-1]["impressions"] == 0
    assert not list(day_rows(account, world.seed, late.start, world.now()))
    world.advance(timedelta(days=(late.start - today).days + 1))
    delivered = {
        r.ad.adset.campaign.id for r in day_rows(account, world.seed, late.start, world.now())
    }
    assert late.id in delivered
    after = oracle.daily(world, shop, today, late.start)
    assert all(d["impressions"] > 0 for d in after)
