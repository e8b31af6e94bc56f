"""ShopifyClient against the sandbox over loopback HTTP: data, pacing, and the error mapping."""

from __future__ import annotations

import pytest

from sandbox.server import RunningSandbox
from sandbox.world import ShopProfile
from storeline.platforms.shopify.client import ShopifyClient
from storeline.platforms.shopify.documents import document
from storeline.worker.errors import CredentialError, TerminalError, TransientError
from tests.fixtures.sandbox import FreshSandbox
from tests.platforms.shopify.connector_support import sandbox_settings

# Costs 1 point: throttle tests must wait for a refill of 1 point, not of a whole page query.
CHEAP = 'query Cheap { bulkOperation(id: "gid://shopify/BulkOperation/1") { id } }'


@pytest.fixture
def faulty(fresh_sandbox: FreshSandbox) -> RunningSandbox:
    return fresh_sandbox(platforms=["shopify"])


def shop_of(running: RunningSandbox) -> ShopProfile:
    return next(iter(running.world.shops.values()))


def client_for(
    running: RunningSandbox, token: str | None = None, **settings: object
) -> ShopifyClient:
    shop = shop_of(running)
    settings_ = sandbox_settings(running, **settings)
    return ShopifyClient(shop.shop_id, token or shop.shopify_token, settings_)


async def test_query_returns_data_and_tracks_the_bucket(sandbox: RunningSandbox) -> None:
    async with client_for(sandbox) as client:
        result = await client.graphql(
            document("orders_page"), {"first": 3, "query": None, "after": None}
        )
    edges = result.data["orders"]["edges"]
    assert len(edges) == 3
    assert edges[0]["node"]["id"].startswith("gid://shopify/Order/")
    assert result.cost is not None
    requested = result.cost["requestedQueryCost"]
    assert requested > 3
    # The bucket now predicts the next call's cost from what this one requested.
    assert client.bucket.costs[hash(document("orders_page"))] == requested
    assert client.bucket.available == result.cost["throttleStatus"]["currentlyAvailable"]


async def test_throttled_answers_are_waited_out(faulty: RunningSandbox) -> None:
    shop = shop_of(faulty)
    faulty.world.faults.inject("shopify", shop.shop_id, "throttle", times=3)
    async with client_for(faulty) as client:
        result = await client.graphql(CHEAP)
    assert result.data == {"bulkOperation": None}
    assert client.throttled == 3
    assert client.requests == 4


async def test_throttling_that_never_ends_is_transient(faulty: RunningSandbox) -> None:
    shop = shop_of(faulty)
    faulty.world.faults.inject("shopify", shop.shop_id, "throttle", times=None)
    async with client_for(faulty, max_throttle_wait_seconds=0.3) as client:
        with pytest.raises(TransientError) as caught:
            await client.graphql(CHEAP)
    assert caught.value.code == "shopify_throttled"


async def test_a_5xx_burst_is_retried(faulty: RunningSandbox) -> None:
    shop = shop_of(faulty)
    faulty.world.faults.inject("shopify", shop.shop_id, "server_error", times=2, status=502)
    faulty.world.faults.inject("shopify", shop.shop_id, "server_error", times=1, status=500)
    async with client_for(faulty) as client:
        result = await client.graphql(CHEAP)
    assert result.data == {"bulkOperation": None}
    assert client.requests == 4


async def test_5xx_beyond_the_retries_is_transient(faulty: RunningSandbox) -> None:
    shop = shop_of(faulty)
    faulty.world.faults.inject("shopify", shop.shop_id, "server_error", times=None, status=503)
    async with client_for(faulty, max_retries=2) as client:
        with pytest.raises(TransientError) as caught:
            await client.graphql(CHEAP)
    assert caught.value.code == "shopify_unavailable"
    assert client.requests == 3


async def test_malformed_bodies_are_retried_then_transient(faulty: RunningSandbox) -> None:
    shop = shop_of(faulty)
    faulty.world.faults.inject("shopify", shop.shop_id, "malformed", times=1)
    async with client_for(faulty, max_retries=1) as client:
        assert (await client.graphql(CHEAP)).data == {"bulkOperation": None}
        faulty.world.faults.inject("shopify", shop.shop_id, "malformed", times=None)
        with pytest.raises(TransientError) as caught:
            await client.graphql(CHEAP)
    assert caught.value.code == "shopify_malformed_response"


async def test_timeouts_are_transient(faulty: RunningSandbox) -> None:
    shop = shop_of(faulty)
    faulty.world.faults.inject("shopify", shop.shop_id, "slow", times=None, seconds=1.0)
    async with client_for(faulty, request_timeout_seconds=0.2, max_retries=1) as client:
        with pytest.raises(TransientError) as caught:
            await client.graphql(CHEAP)
    assert caught.value.code == "shopify_timeout"


@pytest.mark.parametrize(
    ("fault", "code"),
    [("expired_token", "shopify_unauthorized"), ("revoked_token", "shopify_forbidden")],
)
async def test_auth_failures_are_credential_errors(
    faulty: RunningSandbox, fault: str, code: str
) -> None:
    shop = shop_of(faulty)
    faulty.world.faults.inject("shopify", shop.shop_id, fault, times=1)
    async with client_for(faulty) as client:
        with pytest.raises(CredentialError) as caught:
            await client.graphql(CHEAP)
    assert caught.value.code == code
    assert client.requests == 1  # never retried
    assert shop.shopify_token not in str(caught.value)


async def test_a_wrong_token_never_appears_in_the_error(sandbox: RunningSandbox) -> None:
    secret = "shpat_this_is_not_the_right_token_123"
    async with client_for(sandbox, token=secret) as client:
        with pytest.raises(CredentialError) as caught:
            await client.graphql(CHEAP)
    assert caught.value.code == "shopify_unauthorized"
    assert secret not in str(caught.value)
    assert caught.value.__cause__ is None


async def test_graphql_errors_are_terminal(sandbox: RunningSandbox) -> None:
    async with client_for(sandbox) as client:
        with pytest.raises(TerminalError) as caught:
            await client.graphql("query Bad { orders(first: 1) { nope } }")
    assert caught.value.code == "shopify_graphql_error"
    assert "nope" in str(caught.value)


async def test_a_query_over_the_cost_limit_is_terminal(sandbox: RunningSandbox) -> None:
    async with client_for(sandbox) as client:
        with pytest.raises(TerminalError) as caught:
            await client.graphql(document("orders_page"), {"first": 100, "query": None})
    assert caught.value.code == "shopify_query_cost"


async def test_an_unknown_shop_is_terminal(sandbox: RunningSandbox) -> None:
    settings = sandbox_settings(sandbox)
    async with ShopifyClient("no-such-shop.myshopify.com", "shpat_x", settings) as client:
        with pytest.raises(TerminalError) as caught:
            await client.graphql(CHEAP)
    assert caught.value.code == "shopify_not_found"
