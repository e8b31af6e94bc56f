"""GA4 sandbox: 429 RESOURCE_EXHAUSTED per quota kind with Google's words, token buckets that
overdraw to a negative `remaining`, and the thresholded-requests quota running out (issue 22, 7)."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import httpx
import pytest

from tests.sandbox.test_ga4_report import Client, start

TWO_TOKENS = {  # 60+ days of one dimension: 1 + days // 60 tokens
    "dimensions": [{"name": "date"}],
    "metrics": [{"name": "sessions"}],
    "dateRanges": [{"startDate": "70daysAgo", "endDate": "yesterday"}],
    "returnPropertyQuota": True,
}


@pytest.fixture
def fresh() -> Iterator[Client]:
    world, running = start()
    try:
        yield Client(world, running.urls["ga4"])
    finally:
        running.stop()


@pytest.fixture
def berlin() -> Iterator[Client]:
    world, running = start()
    try:
        yield Client(world, running.urls["ga4"], "berlin-botanics.myshopify.com")
    finally:
        running.stop()


def _exhausted(answer: httpx.Response) -> str:
    assert answer.status_code == 429
    error = answer.json()["error"]
    assert set(error) == {"code", "message", "status"}
    assert error["code"] == 429
    assert error["status"] == "RESOURCE_EXHAUSTED"
    assert "propertyQuota" not in answer.json()  # a refusal reports no quota: track it before
    return str(error["message"])


def test_a_request_overdraws_the_project_bucket_then_the_property_is_refused(
    fresh: Client,
) -> None:
    faults = fresh.world.faults
    faults.inject("ga4", fresh.shop.shop_id, "throttle", quota="tokensPerProjectPerHour", leave=1)
    overdrawn = fresh.report(**TWO_TOKENS)
    assert overdrawn.status_code == 200  # one token left is not empty: the request runs
    status = overdrawn.json()["propertyQuota"]["tokensPerProjectPerHour"]
    assert status == {"consumed": 2, "remaining": -1}
    message = _exhausted(fresh.report(**TWO_TOKENS))
    assert message.startswith("Exhausted property tokens for a project per hour.")
    # every request to the property is refused, whatever it asks, until the hour turns
    _exhausted(
        fresh.report(
            metrics=[{"name": "sessions"}], dateRanges=[{"startDate": "today", "endDate": "today"}]
        )
    )
    fresh.world.advance(timedelta(minutes=61))
    fresh.token = fresh.refresh()
    again = fresh.report(**TWO_TOKENS)
    assert again.status_code == 200
    assert again.json()["propertyQuota"]["tokensPerProjectPerHour"]["remaining"] == 14_000 - 2


def test_an_exactly_empty_bucket_reports_no_remaining_field(fresh: Client) -> None:
    fresh.world.faults.inject(
        "ga4", fresh.shop.shop_id, "throttle", quota="tokensPerProjectPerHour", leave=2
    )
    status = fresh.report(**TWO_TOKENS).json()["propertyQuota"]["tokensPerProjectPerHour"]
    assert status == {"consumed": 2}  # proto3 JSON drops a zero `remaining`: read it as 0


def test_the_thresholded_requests_quota_runs_out(berlin: Client) -> None:
    ask = {
        "dimensions": [{"name": "deviceCategory"}],
        "metrics": [{"name": "totalUsers"}],
        "dateRanges": [{"startDate": "yesterday", "endDate": "yesterday"}],
        "returnPropertyQuota": True,
    }
    first = berlin.report(**ask).json()
    assert first["metadata"]["subjectToThresholding"] is True
    assert first["propertyQuota"]["potentiallyThresholdedRequestsPerHour"] == {
        "consumed": 1,
        "remaining": 119,
    }
    plain = berlin.report(**{**ask, "metrics": [{"name": "sessions"}]}).json()
    assert plain["propertyQuota"]["potentiallyThresholdedRequestsPerHour"] == {"remaining": 119}
    with httpx.Client(timeout=30) as http:  # the other 119 of the hour, for real
        url = f"{berlin.base}/v1beta/properties/{berlin.shop.ga4_property_id}:runReport"
        headers = {"Authorization": f"Bearer {berlin.token}"}
        for _ in range(119):
            assert http.post(url, json=ask, headers=headers).status_code == 200
        refused = http.post(url, json=ask, headers=headers)
    message = _exhausted(refused)
    assert message.startswith("Exhausted potentially thresholded requests quota.")
    berlin.world.advance(timedelta(minutes=61))
    berlin.token = berlin.refresh()
    assert berlin.report(**ask).status_code == 200


def test_more_than_ten_requests_in_flight_exhaust_the_concurrent_quota(fresh: Client) -> None:
    fresh.world.faults.inject("ga4", fresh.shop.shop_id, "slow", times=10, seconds=1.0)
    url = f"{fresh.base}/v1beta/properties/{fresh.shop.ga4_property_id}:runReport"
    headers = {"Authorization": f"Bearer {fresh.token}"}
    body: dict[str, Any] = {
        "metrics": [{"name": "sessions"}],
        "dateRanges": [{"startDate": "yesterday", "endDate": "yesterday"}],
    }

    async def burst() -> tuple[list[httpx.Response], httpx.Response]:
        async with httpx.AsyncClient(timeout=30) as http:
            slow = [
                asyncio.create_task(http.post(url, json=body, headers=headers)) for _ in range(10)
            ]
            await asyncio.sleep(0.5)  # all ten hold a slot now
            eleventh = await http.post(url, json=body, headers=headers)
            return list(await asyncio.gather(*slow)), eleventh

    slow, eleventh = asyncio.run(burst())
    assert [r.status_code for r in slow] == [200] * 10
    assert _exhausted(eleventh) == "Exhausted concurrent requests quota."
    after = fresh.report(**body, returnPropertyQuota=True)
    assert after.json()["propertyQuota"]["concurrentRequests"] == {"remaining": 10}


@pytest.mark.parametrize(
    ("bucket", "opening"),
    [
        ("tokensPerProjectPerHour", "Exhausted property tokens for a project per hour."),
        ("concurrentRequests", "Exhausted concurrent requests quota."),
        (
            "potentiallyThresholdedRequestsPerHour",
            "Exhausted potentially thresholded requests quota.",
        ),
    ],
)
def test_the_throttle_fault_speaks_each_quota_kind(
    fresh: Client, bucket: str, opening: str
) -> None:
    fresh.world.faults.inject("ga4", fresh.shop.shop_id, "throttle", quota=bucket)
    assert _exhausted(fresh.report(**TWO_TOKENS)).startswith(opening)
    assert fresh.report(**TWO_TOKENS).status_code == 200  # a one-off 429, nothing drained
