"""GA4 sandbox: several dateRanges as the real API answers them: a dateRange column, zero-filled
rows, rowCount counting (combination, range) rows and one totals row per range (issue 22, 8)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, timedelta
from typing import Any

import pytest

from sandbox.ga4 import generate, oracle
from tests.sandbox.test_ga4_report import Client, start


@pytest.fixture(scope="module")
def kiri() -> Iterator[Client]:
    world, running = start()
    try:
        yield Client(world, running.urls["ga4"], "kiri-surf.myshopify.com")
    finally:
        running.stop()


def _spans(client: Client) -> list[tuple[date, date]]:
    today = generate.local_today(client.world, client.shop)
    return [
        (today - timedelta(days=9), today - timedelta(days=3)),
        (today - timedelta(days=40), today - timedelta(days=38)),
    ]


def _ask(client: Client, **body: Any) -> dict[str, Any]:
    ranges = [{"startDate": a.isoformat(), "endDate": b.isoformat()} for a, b in _spans(client)]
    return client.report(dateRanges=ranges, **body).json()  # type: ignore[no-any-return]


def test_dates_of_one_range_come_back_as_zero_rows_of_the_other(kiri: Client) -> None:
    body = _ask(
        kiri,
        dimensions=[{"name": "date"}],
        metrics=[{"name": "sessions"}, {"name": "totalUsers"}],
        limit=100,
    )
    assert [h["name"] for h in body["dimensionHeaders"]] == ["date", "dateRange"]
    rows = {
        (r["dimensionValues"][0]["value"], r["dimensionValues"][1]["value"]): [
            int(v["value"]) for v in r["metricValues"]
        ]
        for r in body["rows"]
    }
    assert body["rowCount"] == len(rows) == 10 * 2  # every date in every range
    for i, (first, last) in enumerate(_spans(kiri)):
        other = f"date_range_{1 - i}"
        for day in oracle.daily(kiri.world, kiri.shop, first, last):
            key = day["date"].replace("-", "")
            assert rows[(key, f"date_range_{i}")] == [day["sessions"], day["users"]]
            assert rows[(key, other)] == [0, 0]  # zero-filled, not missing


def test_one_totals_row_per_range_with_users_counted_over_the_range(kiri: Client) -> None:
    body = _ask(
        kiri,
        dimensions=[{"name": "deviceCategory"}],
        metrics=[{"name": "sessions"}, {"name": "totalUsers"}],
        metricAggregations=["TOTAL", "MAXIMUM"],
    )
    assert body["rowCount"] == 3 * 2
    totals = body["totals"]
    assert [[v["value"] for v in t["dimensionValues"]] for t in totals] == [
        ["RESERVED_TOTAL", "date_range_0"],
        ["RESERVED_TOTAL", "date_range_1"],
    ]
    assert [m["dimensionValues"][1]["value"] for m in body["maximums"]] == [
        "date_range_0",
        "date_range_1",
    ]
    for total, (first, last) in zip(totals, _spans(kiri), strict=True):
        days = oracle.daily(kiri.world, kiri.shop, first, last)
        sessions, users = (int(v["value"]) for v in total["metricValues"])
        assert sessions == sum(d["sessions"] for d in days)
        assert users == oracle.users(kiri.world, kiri.shop, first, last)
        assert users < sum(d["users"] for d in days)


def test_a_range_with_no_data_still_gets_zero_rows_and_a_named_column(kiri: Client) -> None:
    today = generate.local_today(kiri.world, kiri.shop)
    yesterday = (today - timedelta(days=1)).isoformat()
    body = kiri.report(
        dimensions=[{"name": "deviceCategory"}],
        metrics=[{"name": "sessions"}],
        dateRanges=[
            {"startDate": yesterday, "endDate": yesterday, "name": "recent"},
            {"startDate": "2015-01-01", "endDate": "2015-01-31", "name": "before"},
        ],
        metricAggregations=["TOTAL"],
    ).json()
    before = [r for r in body["rows"] if r["dimensionValues"][1]["value"] == "before"]
    assert len(before) == 3
    assert {r["metricValues"][0]["value"] for r in before} == {"0"}
    assert body["rowCount"] == 6
    assert [t["dimensionValues"][1]["value"] for t in body["totals"]] == ["recent", "before"]
    assert body["totals"][1]["metricValues"] == [{"value": "0"}]
