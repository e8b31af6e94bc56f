"""`shop { ianaTimezone currencyCode }`: the shop's current settings; a timezone change moves
the reporting timezone (the oracle's days) but never an order's instant."""

from __future__ import annotations

from datetime import timedelta

from sandbox.shopify import generate, oracle, profile
from sandbox.world import World
from tests.fixtures.sandbox import FreshSandbox
from tests.sandbox.test_shopify_protocol import post, query_file

KIRI = "kiri-surf.myshopify.com"


def test_shop_query_reports_the_current_timezone(fresh_sandbox: FreshSandbox) -> None:
    running = fresh_sandbox(platforms=["shopify"])
    text = query_file("shop_profile.graphql")
    first = post(running, KIRI, text).json()["data"]["shop"]
    assert first == {"ianaTimezone": "Pacific/Kiritimati", "currencyCode": "AUD"}
    profile.set_timezone(running.world, KIRI, "Pacific/Pago_Pago")
    second = post(running, KIRI, text).json()["data"]["shop"]
    assert second["ianaTimezone"] == "Pacific/Pago_Pago"


def test_a_timezone_change_moves_days_not_orders() -> None:
    world = World.build()
    shop = world.shops[KIRI]
    before = [(o.id, o.processed_at) for o in generate.iter_orders(world, shop)]
    start = world.history_start(shop) - timedelta(days=2)
    end = world.now().date() + timedelta(days=2)
    days_before = oracle.daily(world, shop, start, end)
    profile.set_timezone(world, KIRI, "Pacific/Pago_Pago")
    assert [(o.id, o.processed_at) for o in generate.iter_orders(world, shop)] == before
    days_after = oracle.daily(world, shop, start, end)
    assert [d["orders"] for d in days_after] != [d["orders"] for d in days_before]
    assert sum(d["orders"] for d in days_after) == sum(d["orders"] for d in days_before)
