"""GA4 sandbox: user metrics are counted once, so they never add up across rows (issue 22, 5)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator
from datetime import date, timedelta

import pytest

from sandbox.ga4 import generate, oracle
from tests.sandbox.test_ga4_report import Client, start

USERS = [{"name": "totalUsers"}, {"name": "newUsers"}, {"name": "sessions"}]


@pytest.fixture(scope="module")
def kiri() -> Iterator[Client]:
    """A shop with no (other) rows and no thresholds: the overlap alone is under test here."""
    world, running = start()
    try:
        yield Client(world, running.urls["ga4"], "kiri-surf.myshopify.com")
    finally:
        running.stop()


def _window(client: Client) -> tuple[str, str]:
    today = generate.local_today(client.world, client.shop)
    return (today - timedelta(days=14)).isoformat(), (today - timedelta(days=3)).isoformat()


def _values(row: dict[str, object]) -> list[int]:
    return [int(v["value"]) for v in row["metricValues"]]  # type: ignore[index]


def test_a_days_users_are_fewer_than_the_sum_of_its_channel_rows(kiri: Client) -> None:
    first, last = _window(kiri)
    span = {"startDate": first, "endDate": last}
    by_channel = kiri.report(
        dimensions=[{"name": "date"}, {"name": "sessionDefaultChannelGroup"}],
        metrics=USERS,
        dateRanges=[span],
        limit=1000,
    ).json()["rows"]
    by_day = kiri.report(dimensions=[{"name": "date"}], metrics=USERS, dateRanges=[span]).json()
    summed: dict[str, list[int]] = defaultdict(lambda: [0, 0, 0])
    for row in by_channel:
        for i, value in enumerate(_values(row)):
            summed[row["dimensionValues"][0]["value"]][i] += value
    assert len(by_day["rows"]) == 12
    for row in by_day["rows"]:
        users, new_users, sessions = _values(row)
        rows_users, rows_new, rows_sessions = summed[row["dimensionValues"][0]["value"]]
        assert users < rows_users  # the real report: 16 users a day, rows summing to 23
        assert new_users < rows_new
        assert sessions == rows_sessions  # sessions belong to one channel: they still add up


def test_the_oracle_gives_the_day_figures_a_date_only_request_returns(kiri: Client) -> None:
    first, last = _window(kiri)
    body = kiri.report(
        dimensions=[{"name": "date"}],
        metrics=USERS,
        dateRanges=[{"startDate": first, "endDate": last}],
        orderBys=[{"dimension": {"dimensionName": "date"}}],
    ).json()
    days = oracle.daily(kiri.world, kiri.shop, date.fromisoformat(first), date.fromisoformat(last))
    got = [_values(r) for r in body["rows"]]
    assert got == [[d["users"], d["new_users"], d["sessions"]] for d in days]
    per_channel = oracle.rows(
        kiri.world, kiri.shop, date.fromisoformat(first), date.fromisoformat(last)
    )
    assert sum(r["users"] for r in per_channel) > sum(d["users"] for d in days)


def test_a_ranges_users_are_fewer_than_the_sum_of_its_days(kiri: Client) -> None:
    first, last = _window(kiri)
    span = [{"startDate": first, "endDate": last}]
    whole = kiri.report(metrics=USERS, dateRanges=span).json()["rows"][0]
    daily = kiri.report(dimensions=[{"name": "date"}], metrics=USERS, dateRanges=span).json()
    users, new_users, _ = _values(whole)
    assert users < sum(_values(r)[0] for r in daily["rows"])  # returning visitors count once
    assert new_users == sum(_values(r)[1] for r in daily["rows"])  # new once, on one day only
    expected = oracle.users(
        kiri.world, kiri.shop, date.fromisoformat(first), date.fromisoformat(last)
    )
    assert users == expected


def test_totals_count_users_once_not_as_the_sum_of_rows(kiri: Client) -> None:
    first, last = _window(kiri)
    span = [{"startDate": first, "endDate": last}]
    body = kiri.report(
        dimensions=[{"name": "deviceCategory"}],
        metrics=USERS,
        dateRanges=span,
        metricAggregations=["TOTAL"],
    ).json()
    (total,) = body["totals"]
    assert [v["value"] for v in total["dimensionValues"]] == ["RESERVED_TOTAL"]
    users, _, sessions = _values(total)
    assert users < sum(_values(r)[0] for r in body["rows"])
    assert sessions == sum(_values(r)[2] for r in body["rows"])
    whole = kiri.report(metrics=USERS, dateRanges=span).json()["rows"][0]
    assert users == _values(whole)[0]
