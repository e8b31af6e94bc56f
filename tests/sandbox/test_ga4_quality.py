"""GA4 sandbox: "(other)" rows, data thresholds and sampling with the metadata flags a real
property sends, and an oracle that reports the same rows (issue 22, item 6)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

import pytest

from sandbox import server
from sandbox.ga4 import generate, oracle
from sandbox.world import World
from tests.sandbox.test_ga4_report import Client, start

CONNECTOR_DIMENSIONS = [
    "date",
    "sessionDefaultChannelGroup",
    "sessionSource",
    "sessionMedium",
    "deviceCategory",
]
METRICS = ["sessions", "totalUsers", "newUsers", "transactions", "purchaseRevenue"]


@pytest.fixture(scope="module")
def shops() -> Iterator[dict[str, Client]]:
    world, running = start()
    try:
        yield {
            shop_id.split("-")[0]: Client(world, running.urls["ga4"], shop_id)
            for shop_id in world.shops
        }
    finally:
        running.stop()


def _days(client: Client, back: int, length: int) -> tuple[date, date]:
    last = generate.local_today(client.world, client.shop) - timedelta(days=back)
    return last - timedelta(days=length - 1), last


def _connector_report(client: Client, first: date, last: date, **extra: Any) -> dict[str, Any]:
    return client.report(  # type: ignore[no-any-return]
        dimensions=[{"name": d} for d in CONNECTOR_DIMENSIONS],
        metrics=[{"name": m} for m in METRICS],
        dateRanges=[{"startDate": first.isoformat(), "endDate": last.isoformat()}],
        limit=5000,
        **extra,
    ).json()


def _as_oracle(row: dict[str, Any]) -> dict[str, Any]:
    dims = [v["value"] for v in row["dimensionValues"]]
    vals = [v["value"] for v in row["metricValues"]]
    day = dims[0]
    return {
        "date": f"{day[:4]}-{day[4:6]}-{day[6:]}",
        "channel": dims[1],
        "source": dims[2],
        "medium": dims[3],
        "device": dims[4],
        "sessions": int(vals[0]),
        "users": int(vals[1]),
        "new_users": int(vals[2]),
        "transactions": int(vals[3]),
        "purchase_revenue": str(Decimal(vals[4]).quantize(Decimal("0.01"))),
    }


def _comparable(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    keep = {"date", "channel", "source", "medium", "device", "sessions", "users", "new_users"}
    keep |= {"transactions", "purchase_revenue"}
    return sorted(
        ({k: v for k, v in r.items() if k in keep} for r in rows),
        key=lambda r: (r["date"], r["channel"], r["source"], r["medium"], r["device"]),
    )


def test_high_cardinality_days_come_back_with_other_rows(shops: dict[str, Client]) -> None:
    aurora = shops["aurora"]
    first, last = _days(aurora, 3, 5)
    body = _connector_report(aurora, first, last)
    assert body["metadata"]["dataLossFromOtherRow"] is True
    other = [r for r in body["rows"] if r["dimensionValues"][1]["value"] == "(other)"]
    assert len(other) == 5  # one per day, every dimension but the date rolled up
    assert all({v["value"] for v in r["dimensionValues"][1:]} == {"(other)"} for r in other)
    # the (other) row keeps what it rolled up: sessions still add up to the day
    sessions: dict[str, int] = defaultdict(int)
    for row in body["rows"]:
        sessions[row["dimensionValues"][0]["value"]] += int(row["metricValues"][0]["value"])
    days = oracle.daily(aurora.world, aurora.shop, first, last)
    assert [sessions[d["date"].replace("-", "")] for d in days] == [d["sessions"] for d in days]
    assert all(d["data_loss_from_other_row"] for d in days)
    assert _comparable([_as_oracle(r) for r in body["rows"]]) == _comparable(
        oracle.rows(aurora.world, aurora.shop, first, last)
    )


def test_the_other_flag_survives_a_filter_that_drops_the_other_row(
    shops: dict[str, Client],
) -> None:
    aurora = shops["aurora"]
    first, last = _days(aurora, 3, 2)
    body = _connector_report(
        aurora,
        first,
        last,
        dimensionFilter={
            "filter": {"fieldName": "sessionSource", "stringFilter": {"value": "google"}}
        },
    )
    assert all(r["dimensionValues"][2]["value"] == "google" for r in body["rows"])
    assert body["metadata"]["dataLossFromOtherRow"] is True


def test_a_small_property_has_no_other_rows_and_no_flag(shops: dict[str, Client]) -> None:
    kiri = shops["kiri"]
    first, last = _days(kiri, 3, 5)
    body = _connector_report(kiri, first, last)
    assert "dataLossFromOtherRow" not in body["metadata"]  # proto3 JSON omits false
    assert "subjectToThresholding" not in body["metadata"]
    assert all(r["dimensionValues"][1]["value"] != "(other)" for r in body["rows"])
    assert _comparable([_as_oracle(r) for r in body["rows"]]) == _comparable(
        oracle.rows(kiri.world, kiri.shop, first, last)
    )


def test_thresholds_withhold_small_rows_on_a_google_signals_property(
    shops: dict[str, Client],
) -> None:
    berlin = shops["berlin"]
    first, last = _days(berlin, 3, 5)
    body = _connector_report(berlin, first, last, metricAggregations=["TOTAL"])
    assert body["metadata"]["subjectToThresholding"] is True
    users = [int(r["metricValues"][1]["value"]) for r in body["rows"]]
    assert min(users) >= 5  # rows under the threshold are withheld, not zeroed
    shown = sum(int(r["metricValues"][0]["value"]) for r in body["rows"])
    total = int(body["totals"][0]["metricValues"][0]["value"])
    days = oracle.daily(berlin.world, berlin.shop, first, last)
    assert total == sum(d["sessions"] for d in days)  # totals still count what was withheld
    assert shown < total
    assert body["rowCount"] == len(body["rows"])
    assert _comparable([_as_oracle(r) for r in body["rows"]]) == _comparable(
        oracle.rows(berlin.world, berlin.shop, first, last)
    )
    # without a user metric nothing is subject to thresholds
    plain = berlin.report(
        dimensions=[{"name": d} for d in CONNECTOR_DIMENSIONS],
        metrics=[{"name": "sessions"}],
        dateRanges=[{"startDate": first.isoformat(), "endDate": last.isoformat()}],
    ).json()
    assert "subjectToThresholding" not in plain["metadata"]
    assert sum(int(r["metricValues"][0]["value"]) for r in plain["rows"]) == total


def test_an_all_withheld_report_is_empty_with_a_reason(shops: dict[str, Client]) -> None:
    berlin = shops["berlin"]
    first, last = _days(berlin, 3, 1)
    tiny = berlin.report(
        dimensions=[{"name": "sessionSource"}, {"name": "deviceCategory"}],
        metrics=[{"name": "totalUsers"}],
        dateRanges=[{"startDate": first.isoformat(), "endDate": last.isoformat()}],
        dimensionFilter={
            "filter": {"fieldName": "sessionSource", "stringFilter": {"value": "bing"}}
        },
    ).json()
    assert "rows" not in tiny
    assert "rowCount" not in tiny
    assert tiny["metadata"]["subjectToThresholding"] is True
    assert tiny["metadata"]["emptyReason"]


def test_long_ranges_of_a_busy_property_are_sampled_and_one_day_is_not() -> None:
    world = World.build(seed=7, size="bench")  # a busy shop: ~4,800 sessions a day
    running = server.start(world, ["ga4"])
    try:
        client = Client(world, running.urls["ga4"])
        today = generate.local_today(world, client.shop)
        day = today - timedelta(days=5)
        ask = {"dimensions": [{"name": "date"}], "metrics": [{"name": "sessions"}]}
        long = client.report(
            **ask,
            dateRanges=[
                {"startDate": (today - timedelta(days=425)).isoformat(), "endDate": "today"}
            ],
        ).json()
        (meta,) = long["metadata"]["samplingMetadatas"]
        assert int(meta["samplesReadCount"]) < int(meta["samplingSpaceSize"])
        assert isinstance(meta["samplingSpaceSize"], str)  # int64 travels as a string
        sampled = {
            r["dimensionValues"][0]["value"]: int(r["metricValues"][0]["value"])
            for r in long["rows"]
        }
        one = client.report(
            **ask, dateRanges=[{"startDate": day.isoformat(), "endDate": day.isoformat()}]
        ).json()
        assert "samplingMetadatas" not in one["metadata"]
        (truth,) = oracle.daily(world, client.shop, day, day)
        assert int(one["rows"][0]["metricValues"][0]["value"]) == truth["sessions"]
        assert sampled[day.strftime("%Y%m%d")] != truth["sessions"]  # an estimate, not the figure
    finally:
        running.stop()
