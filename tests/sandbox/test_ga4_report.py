"""GA4 sandbox: runReport contents, paging, quota, processing lag, faults and determinism."""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Iterator
from datetime import date, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest

from sandbox import server
from sandbox.ga4 import oracle
from sandbox.world import ShopProfile, World

AURORA = "aurora-goods.myshopify.com"
METRICS = [
    "sessions",
    "totalUsers",
    "newUsers",
    "engagedSessions",
    "keyEvents",
    "transactions",
    "purchaseRevenue",
]
ORACLE_FIELDS = [
    "sessions",
    "users",
    "new_users",
    "engaged_sessions",
    "key_events",
    "transactions",
    "purchase_revenue",
]


class Client:
    """A tiny GA4 client: refresh once, then POST runReport bodies."""

    def __init__(self, world: World, base: str, shop_id: str = AURORA) -> None:
        self.world, self.base = world, base
        self.shop: ShopProfile = world.shops[shop_id]
        self.token = self.refresh()

    def refresh(self) -> str:
        form = {
            "grant_type": "refresh_token",
            "client_id": self.shop.ga4_client_id,
            "client_secret": self.shop.ga4_client_secret,
            "refresh_token": self.shop.ga4_refresh_token,
        }
        return str(httpx.post(f"{self.base}/token", data=form).json()["access_token"])

    def report(self, **body: Any) -> httpx.Response:
        return httpx.post(
            f"{self.base}/v1beta/properties/{self.shop.ga4_property_id}:runReport",
            json=body,
            headers={"Authorization": f"Bearer {self.token}"},
            timeout=30,
        )


def start(seed: int = 7) -> tuple[World, server.RunningSandbox]:
    world = World.build(seed=seed)
    return world, server.start(world, ["ga4"])


@pytest.fixture(scope="module")
def shared() -> Iterator[Client]:
    """Read-only tests share one server; nothing here moves the clock or injects faults."""
    world, running = start()
    try:
        yield Client(world, running.urls["ga4"])
    finally:
        running.stop()


@pytest.fixture
def fresh() -> Iterator[Client]:
    world, running = start()
    try:
        yield Client(world, running.urls["ga4"])
    finally:
        running.stop()


def test_paged_report_sums_to_the_oracle(shared: Client) -> None:
    start_day = shared.world.history_start(shared.shop)
    body = {
        "dimensions": [
            {"name": "date"},
            {"name": "sessionDefaultChannelGroup"},
            {"name": "sessionSourceMedium"},
            {"name": "deviceCategory"},
        ],
        "metrics": [{"name": m} for m in METRICS],
        "dateRanges": [{"startDate": start_day.isoformat(), "endDate": "today"}],
        "limit": 700,
    }
    sums: dict[str, list[Decimal]] = defaultdict(lambda: [Decimal(0)] * len(METRICS))
    offset, pages, row_count = 0, 0, None
    while True:
        page = shared.report(**body, offset=offset).json()
        row_count = page["rowCount"] if row_count is None else row_count
        assert page["rowCount"] == row_count  # rowCount ignores limit/offset
        rows = page.get("rows", [])
        if not rows:
            break
        for row in rows:
            day = row["dimensionValues"][0]["value"]
            for i, value in enumerate(row["metricValues"]):
                sums[day][i] += Decimal(value["value"])
        offset += len(rows)
        pages += 1
    assert offset == row_count
    assert pages > 3
    days = sorted(sums)
    first = date(int(days[0][:4]), int(days[0][4:6]), int(days[0][6:]))
    last = date(int(days[-1][:4]), int(days[-1][4:6]), int(days[-1][6:]))
    assert first == start_day
    expected = oracle.daily(shared.world, shared.shop, first, last)
    additive = [i for i, m in enumerate(METRICS) if m not in ("totalUsers", "newUsers")]
    by_day = shared.report(
        dimensions=[{"name": "date"}],
        metrics=[{"name": m} for m in METRICS],
        dateRanges=[{"startDate": first.isoformat(), "endDate": last.isoformat()}],
        limit=1000,
    ).json()["rows"]
    day_rows = {r["dimensionValues"][0]["value"]: r["metricValues"] for r in by_day}
    for day in expected:
        key = day["date"].replace("-", "")
        got, want = sums[key], [Decimal(str(day[f])) for f in ORACLE_FIELDS]
        assert [got[i] for i in additive] == [want[i] for i in additive], day["date"]
        # users are counted once per day: only a request of their own gives the day's figure
        whole_day = [Decimal(v["value"]) for v in day_rows[key]]
        assert whole_day == want, day["date"]
        assert got[1] > want[1], day["date"]


def test_metadata_headers_and_string_values(shared: Client) -> None:
    body = shared.report(
        dimensions=[{"name": "date"}],
        metrics=[{"name": "sessions"}, {"name": "purchaseRevenue"}],
        dateRanges=[{"startDate": "yesterday", "endDate": "yesterday"}],
    ).json()
    assert body["metadata"] == {"currencyCode": "USD", "timeZone": "America/Los_Angeles"}
    assert body["metricHeaders"] == [
        {"name": "sessions", "type": "TYPE_INTEGER"},
        {"name": "purchaseRevenue", "type": "TYPE_CURRENCY"},
    ]
    assert body["kind"] == "analyticsData#runReport"
    (row,) = body["rows"]
    assert all(isinstance(v["value"], str) for v in row["metricValues"])
    local_now = shared.world.now().astimezone(ZoneInfo("America/Los_Angeles"))
    yesterday = local_now.date() - timedelta(days=1)
    assert row["dimensionValues"][0]["value"] == yesterday.strftime("%Y%m%d")
    assert "propertyQuota" not in body


def test_property_quota_is_reported_and_consumed(shared: Client) -> None:
    ask = {
        "dimensions": [{"name": "date"}],
        "metrics": [{"name": "sessions"}],
        "dateRanges": [{"startDate": "30daysAgo", "endDate": "today"}],
        "returnPropertyQuota": True,
    }
    first = shared.report(**ask).json()["propertyQuota"]
    second = shared.report(**ask).json()["propertyQuota"]
    assert set(first) == {
        "tokensPerDay",
        "tokensPerHour",
        "concurrentRequests",
        "serverErrorsPerProjectPerHour",
        "potentiallyThresholdedRequestsPerHour",
        "tokensPerProjectPerHour",
    }
    consumed = second["tokensPerHour"]["consumed"]
    assert consumed >= 1
    assert second["tokensPerHour"]["remaining"] == first["tokensPerHour"]["remaining"] - consumed
    assert second["tokensPerDay"]["remaining"] < 200_000
    assert second["concurrentRequests"]["remaining"] == 10


@pytest.mark.parametrize(
    ("body", "needle"),
    [
        ({"metrics": [{"name": "sessionz"}]}, "Field sessionz is not a valid metric"),
        ({"dimensions": [{"name": "city"}]}, "Field city is not a valid dimension"),
        ({"dateRanges": [{"startDate": "today", "endDate": "7daysAgo"}]}, "is after"),
        ({"dateRanges": [{"startDate": "last week", "endDate": "today"}]}, "Invalid date"),
        ({"metricFilter": {}}, "metricFilter"),
    ],
)
def test_invalid_requests_are_invalid_argument(
    shared: Client, body: dict[str, Any], needle: str
) -> None:
    ask = {
        "dimensions": [{"name": "date"}],
        "metrics": [{"name": "sessions"}],
        "dateRanges": [{"startDate": "7daysAgo", "endDate": "today"}],
        **body,
    }
    answer = shared.report(**ask)
    assert answer.status_code == 400
    error = answer.json()["error"]
    assert error["status"] == "INVALID_ARGUMENT"
    assert needle in error["message"]


def test_range_before_history_has_no_rows_and_no_row_count(shared: Client) -> None:
    body = shared.report(
        dimensions=[{"name": "date"}],
        metrics=[{"name": "sessions"}],
        dateRanges=[{"startDate": "2015-01-01", "endDate": "2015-01-31"}],
    ).json()
    assert "rows" not in body
    assert "rowCount" not in body


def test_dimension_filter_and_two_date_ranges(shared: Client) -> None:
    body = shared.report(
        dimensions=[{"name": "deviceCategory"}],
        metrics=[{"name": "sessions"}],
        dateRanges=[
            {"startDate": "14daysAgo", "endDate": "8daysAgo"},
            {"startDate": "7daysAgo", "endDate": "1daysAgo", "name": "recent"},
        ],
        dimensionFilter={
            "filter": {"fieldName": "deviceCategory", "inListFilter": {"values": ["mobile"]}}
        },
    ).json()
    assert [h["name"] for h in body["dimensionHeaders"]] == ["deviceCategory", "dateRange"]
    keys = sorted(tuple(v["value"] for v in r["dimensionValues"]) for r in body["rows"])
    assert keys == [("mobile", "date_range_0"), ("mobile", "recent")]


def test_recent_days_keep_changing_until_settled(fresh: Client) -> None:
    ask = {
        "dimensions": [{"name": "date"}],
        "metrics": [{"name": "sessions"}],
        "dateRanges": [{"startDate": "6daysAgo", "endDate": "today"}],
        "orderBys": [{"dimension": {"dimensionName": "date"}}],
    }

    def by_day() -> dict[str, int]:
        rows = fresh.report(**ask).json()["rows"]
        return {r["dimensionValues"][0]["value"]: int(r["metricValues"][0]["value"]) for r in rows}

    before = by_day()
    fresh.world.advance(timedelta(hours=12))
    fresh.token = fresh.refresh()  # twelve sandbox hours outlive any access token
    after = by_day()
    days = sorted(before)
    assert after[days[-1]] > before[days[-1]]  # today still filling up
    assert after[days[-2]] > before[days[-2]]  # yesterday still processing
    assert after[days[0]] == before[days[0]]  # a week ago is final
    assert len(after) >= len(before)


def test_throttle_server_error_and_malformed_faults(fresh: Client) -> None:
    ask: dict[str, Any] = {
        "metrics": [{"name": "sessions"}],
        "dateRanges": [{"startDate": "7daysAgo", "endDate": "today"}],
    }
    faults = fresh.world.faults
    shop_id = fresh.shop.shop_id
    faults.inject("ga4", shop_id, "throttle", quota="tokensPerHour")
    throttled = fresh.report(**ask)
    assert throttled.status_code == 429
    assert throttled.json()["error"]["status"] == "RESOURCE_EXHAUSTED"
    faults.inject("ga4", shop_id, "server_error")
    broken = fresh.report(**ask)
    assert broken.status_code == 500
    assert broken.json()["error"]["status"] == "INTERNAL"
    faults.inject("ga4", shop_id, "malformed")
    garbled = fresh.report(**ask)
    assert garbled.status_code == 200
    with pytest.raises(json.JSONDecodeError):
        json.loads(garbled.text)
    healthy = fresh.report(**ask, returnPropertyQuota=True)
    assert healthy.status_code == 200
    assert healthy.json()["propertyQuota"]["serverErrorsPerProjectPerHour"]["remaining"] == 9


def test_same_seed_gives_identical_bytes() -> None:
    bodies = []
    for _ in range(2):
        world, running = start(seed=99)
        try:
            client = Client(world, running.urls["ga4"], "kiri-surf.myshopify.com")
            answer = client.report(
                dimensions=[{"name": "date"}, {"name": "sessionSource"}],
                metrics=[{"name": m} for m in METRICS],
                dateRanges=[{"startDate": "60daysAgo", "endDate": "today"}],
                returnPropertyQuota=True,
            )
            bodies.append(answer.content)
        finally:
            running.stop()
    assert bodies[0] == bodies[1]
    other_world, running = start(seed=100)
    try:
        client = Client(other_world, running.urls["ga4"], "kiri-surf.myshopify.com")
        different = client.report(
            dimensions=[{"name": "date"}, {"name": "sessionSource"}],
            metrics=[{"name": m} for m in METRICS],
            dateRanges=[{"startDate": "60daysAgo", "endDate": "today"}],
            returnPropertyQuota=True,
        ).content
    finally:
        running.stop()
    assert different != bodies[0]


def test_exhausted_hourly_quota_recovers_next_sandbox_hour(fresh: Client) -> None:
    ask: dict[str, Any] = {
        "metrics": [{"name": "sessions"}],
        "dateRanges": [{"startDate": "yesterday", "endDate": "today"}],
        "returnPropertyQuota": True,
    }
    fresh.world.faults.inject("ga4", fresh.shop.shop_id, "throttle", exhaust=True)
    assert fresh.report(**ask).status_code == 429
    still = fresh.report(**ask)  # no fault left: the bucket itself is empty now
    assert still.status_code == 429
    assert "tokens per hour" in still.json()["error"]["message"]
    fresh.world.advance(timedelta(minutes=61))
    fresh.token = fresh.refresh()
    recovered = fresh.report(**ask)
    assert recovered.status_code == 200
    assert recovered.json()["propertyQuota"]["tokensPerHour"]["remaining"] < 40_000


def test_slow_fault_trips_a_short_client_timeout(fresh: Client) -> None:
    fresh.world.faults.inject("ga4", fresh.shop.shop_id, "slow", seconds=1.0)
    with pytest.raises(httpx.ReadTimeout):
        httpx.post(
            f"{fresh.base}/v1beta/properties/{fresh.shop.ga4_property_id}:runReport",
            json={
                "metrics": [{"name": "sessions"}],
                "dateRanges": [{"startDate": "today", "endDate": "today"}],
            },
            headers={"Authorization": f"Bearer {fresh.token}"},
            timeout=0.2,
        )
