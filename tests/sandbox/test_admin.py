"""The sandbox admin API over real HTTP: shops, clock, faults and oracle dispatch."""

from __future__ import annotations

from datetime import datetime, timedelta

import httpx

from sandbox.faults import FaultKind
from sandbox.server import RunningSandbox
from tests.fixtures.sandbox import FreshSandbox


def test_shops_list_every_shop_with_credentials(sandbox: RunningSandbox) -> None:
    body = httpx.get(f"{sandbox.urls['admin']}/_sandbox/shops").json()
    shops = {s["shop_id"]: s for s in body["shops"]}
    assert set(shops) == set(sandbox.world.shops)
    kiri = shops["kiri-surf.myshopify.com"]
    assert kiri["currency"] == "AUD"
    assert kiri["timezone"] == "Pacific/Kiritimati"
    assert kiri["shopify"]["access_token"] == sandbox.world.shops[kiri["shop_id"]].shopify_token
    assert kiri["ga4"]["property_id"].isdigit()
    assert kiri["meta"]["ad_account_id"].startswith("act_")


def test_clock_advances_and_never_goes_back(fresh_sandbox: FreshSandbox) -> None:
    running = fresh_sandbox(platforms=["admin"])
    admin = running.urls["admin"]
    before = datetime.fromisoformat(httpx.get(f"{admin}/_sandbox/clock").json()["now"])
    moved = httpx.post(f"{admin}/_sandbox/clock/advance", json={"minutes": 90})
    assert moved.status_code == 200
    after = datetime.fromisoformat(moved.json()["now"])
    assert after - before == timedelta(minutes=90)
    assert running.world.now() == after
    backwards = httpx.post(f"{admin}/_sandbox/clock/advance", json={"minutes": -5})
    assert backwards.status_code == 400
    assert backwards.headers["content-type"].startswith("application/problem+json")
    assert running.world.now() == after


def test_faults_are_injected_with_params_and_cleared(fresh_sandbox: FreshSandbox) -> None:
    running = fresh_sandbox(platforms=["admin"])
    admin, world = running.urls["admin"], running.world
    shop_id = next(iter(world.shops))
    created = httpx.post(
        f"{admin}/_sandbox/faults",
        json={"platform": "shopify", "shop_id": shop_id, "kind": "slow", "times": 2, "seconds": 3},
    )
    assert created.status_code == 201
    fault = world.faults.take("shopify", shop_id, FaultKind.SLOW)
    assert fault is not None
    assert fault.params == {"seconds": 3}
    assert fault.times == 1
    assert httpx.delete(f"{admin}/_sandbox/faults").status_code == 204
    assert world.faults.take("shopify", shop_id) is None


def test_fault_input_is_validated(fresh_sandbox: FreshSandbox) -> None:
    admin = fresh_sandbox(platforms=["admin"]).urls["admin"]
    shop_id = "aurora-goods.myshopify.com"
    bad_kind = httpx.post(
        f"{admin}/_sandbox/faults",
        json={"platform": "shopify", "shop_id": shop_id, "kind": "gremlins"},
    )
    assert bad_kind.status_code == 400
    assert "throttle" in bad_kind.json()["detail"]
    unknown_shop = httpx.post(
        f"{admin}/_sandbox/faults", json={"platform": "meta", "shop_id": "nope", "kind": "throttle"}
    )
    assert unknown_shop.status_code == 404
    bad_platform = httpx.post(
        f"{admin}/_sandbox/faults",
        json={"platform": "tiktok", "shop_id": shop_id, "kind": "throttle"},
    )
    assert bad_platform.status_code == 400


def test_oracle_dispatches_to_the_platform_module(sandbox: RunningSandbox) -> None:
    admin = sandbox.urls["admin"]
    shop_id = "berlin-botanics.myshopify.com"
    answer = httpx.get(
        f"{admin}/_sandbox/oracle/ga4/{shop_id}", params={"from": "2026-10-01", "to": "2026-10-03"}
    )
    assert answer.status_code == 200
    body = answer.json()
    assert body["platform"] == "ga4"
    assert body["shop_id"] == shop_id
    assert isinstance(body["days"], list)
    assert body["days"]


def test_oracle_problems(sandbox: RunningSandbox) -> None:
    admin = sandbox.urls["admin"]
    shop_id = "aurora-goods.myshopify.com"
    window = {"from": "2026-10-01", "to": "2026-10-02"}
    missing = httpx.get(f"{admin}/_sandbox/oracle/tiktok/{shop_id}", params=window)
    assert missing.status_code == 404
    assert missing.headers["content-type"].startswith("application/problem+json")
    no_shop = httpx.get(f"{admin}/_sandbox/oracle/ga4/nope.myshopify.com", params=window)
    assert no_shop.status_code == 404
    bad_dates = httpx.get(f"{admin}/_sandbox/oracle/ga4/{shop_id}", params={"from": "yesterday"})
    assert bad_dates.status_code == 400
    reversed_range = httpx.get(
        f"{admin}/_sandbox/oracle/ga4/{shop_id}", params={"from": "2026-10-05", "to": "2026-10-01"}
    )
    assert reversed_range.status_code == 400
