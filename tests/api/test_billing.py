"""Stripe billing over real HTTP: sessions go to the local Stripe stand-in (sandbox/stripe.py),
webhook events are signed with the stripe library's own helper, and an inactive agency keeps
reading but its syncs answer 402 and the scheduler skips its shops. Nothing calls Stripe."""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from typing import Any

import asyncpg
import httpx
import pytest
import stripe

from sandbox import stripe as stripe_standin
from storeline.api.app import create_app
from storeline.api.billing.settings import BillingSettings
from storeline.api.settings import ApiSettings
from storeline.core.rls import as_user
from storeline.worker.jobs.scheduler import schedule_once
from storeline.worker.settings import WorkerSettings
from tests.api.conftest import A_OWNER, A_STAFF, B_OWNER, SECRET, ServedApi, Token
from tests.api.test_platforms import A1, B1, auth

WHSEC = "whsec_test_storeline_signing_secret"
AGENCY_A = uuid.UUID("aaaaaaaa-0000-0000-0000-000000000000")
AGENCY_B = uuid.UUID("bbbbbbbb-0000-0000-0000-000000000000")


@pytest.fixture(scope="module")
def standin() -> Iterator[stripe_standin.RunningStripe]:
    running = stripe_standin.start()
    yield running
    running.stop()


@pytest.fixture
async def api(
    tenants: asyncpg.Connection, db_dsn: str, standin: stripe_standin.RunningStripe
) -> AsyncIterator[httpx.AsyncClient]:
    billing = BillingSettings(
        stripe_secret_key="sk_test_storeline",
        webhook_secret=WHSEC,
        price_id="price_agency_plan",
        stripe_api_base=standin.url,
    )
    served = ServedApi(create_app(ApiSettings(jwt_secret=SECRET), dsn=db_dsn, billing=billing))
    try:
        async with httpx.AsyncClient(base_url=served.url, timeout=10) as client:
            yield client
    finally:
        served.stop()


def event(kind: str, obj: dict[str, Any], *, created: int, event_id: str | None = None) -> str:
    return json.dumps(
        {
            "id": event_id or f"evt_{uuid.uuid4().hex[:20]}",
            "object": "event",
            "type": kind,
            "created": created,
            "data": {"object": obj},
        }
    )


async def deliver(
    api: httpx.AsyncClient, payload: str, *, secret: str = WHSEC, at: int | None = None
) -> httpx.Response:
    header = stripe.WebhookSignature.generate_signature_header(payload, secret, timestamp=at)
    return await api.post(
        "/api/billing/webhook",
        content=payload,
        headers={"Stripe-Signature": header, "Content-Type": "application/json"},
    )


def subscription(status: str, sub: str = "sub_1", agency: uuid.UUID = AGENCY_A) -> dict[str, Any]:
    return {
        "id": sub,
        "object": "subscription",
        "customer": "cus_A",
        "status": status,
        "metadata": {"agency_id": str(agency)},
    }


async def requests_seen(standin: stripe_standin.RunningStripe) -> list[dict[str, Any]]:
    async with httpx.AsyncClient(base_url=standin.url) as client:
        seen: list[dict[str, Any]] = (await client.get("/_stripe/requests")).json()
    return seen


async def status_of(conn: asyncpg.Connection, agency: uuid.UUID = AGENCY_A) -> str:
    return str(
        await conn.fetchval(
            "SELECT subscription_status FROM app_dashboard.agencies WHERE id = $1", agency
        )
    )


async def test_owner_sessions_go_through_the_stand_in(
    api: httpx.AsyncClient, token: Token, standin: stripe_standin.RunningStripe
) -> None:
    seen_before = len(await requests_seen(standin))
    r = await api.post("/api/billing/checkout", headers=auth(token, A_OWNER))
    assert r.status_code == 201, r.text
    assert r.json()["url"].startswith("https://checkout.stripe.test/c/pay/cs_test_")
    sent = (await requests_seen(standin))[seen_before]
    assert sent["path"] == "/v1/checkout/sessions"
    params = sent["params"]
    assert params["mode"] == "subscription"
    assert params["line_items"] == [{"price": "price_agency_plan", "quantity": "1"}]
    assert params["client_reference_id"] == str(AGENCY_A)
    assert params["subscription_data"] == {"metadata": {"agency_id": str(AGENCY_A)}}
    assert params["customer_email"] == "a@a.test"
    # Staff may read the plan but not buy one; nobody has a portal before a customer exists.
    r = await api.post("/api/billing/checkout", headers=auth(token, A_STAFF))
    assert (r.status_code, r.headers["content-type"]) == (403, "application/problem+json")
    r = await api.post("/api/billing/portal", headers=auth(token, A_OWNER))
    assert r.status_code == 409, r.text
    # Checkout completes: the customer and subscription are the agency's, and the portal opens.
    done = {
        "id": "cs_test_1",
        "object": "checkout.session",
        "mode": "subscription",
        "payment_status": "paid",
        "client_reference_id": str(AGENCY_A),
        "customer": "cus_A",
        "subscription": "sub_1",
    }
    r = await deliver(api, event("checkout.session.completed", done, created=int(time.time())))
    assert r.json() == {"received": True, "outcome": "applied"}
    r = await api.get("/api/billing", headers=auth(token, A_STAFF))
    assert r.status_code == 200, r.text
    assert r.json()["subscription_status"] == "active"
    assert r.json()["has_billing_account"] is True
    r = await api.post("/api/billing/portal", headers=auth(token, A_OWNER))
    assert r.status_code == 201, r.text
    last = (await requests_seen(standin))[-1]
    assert last["path"] == "/v1/billing_portal/sessions"
    assert last["params"]["customer"] == "cus_A"


async def test_the_webhook_verifies_signatures_and_ignores_replays(
    api: httpx.AsyncClient, conn: asyncpg.Connection
) -> None:
    payload = event("customer.subscription.updated", subscription("past_due"), created=1000)
    for bad in (
        await deliver(api, payload, secret="whsec_someone_else"),
        await deliver(api, payload, at=int(time.time()) - 3600),  # a captured, replayed request
        await api.post("/api/billing/webhook", content=payload),  # no signature at all
        await api.post(
            "/api/billing/webhook",
            content=payload.replace("past_due", "active"),
            headers={
                "Stripe-Signature": stripe.WebhookSignature.generate_signature_header(
                    payload, WHSEC
                )
            },
        ),  # a body changed after signing
    ):
        assert bad.status_code == 400, bad.text
        assert bad.headers["content-type"] == "application/problem+json"
    assert await status_of(conn) == "active"
    first = await deliver(api, payload)
    assert first.json()["outcome"] == "applied"
    assert await status_of(conn) == "past_due"
    # The same event again (Stripe retries until it sees a 2xx) changes nothing, even after the
    # status moved on.
    await conn.execute(
        "UPDATE app_dashboard.agencies SET subscription_status = 'active' WHERE id = $1", AGENCY_A
    )
    again = await deliver(api, payload)
    assert (again.status_code, again.json()["outcome"]) == (200, "duplicate")
    assert await status_of(conn) == "active"
    assert await conn.fetchval("SELECT count(*) FROM app_dashboard.billing_events") == 1


async def test_events_out_of_order_never_regress_the_status(
    api: httpx.AsyncClient, conn: asyncpg.Connection
) -> None:
    async def send(kind: str, obj: dict[str, Any], created: int) -> str:
        r = await deliver(api, event(kind, obj, created=created))
        assert r.status_code == 200, r.text
        return str(r.json()["outcome"])

    sub = "customer.subscription."
    # Created in the same second as its activation, delivered after it: active stays.
    assert await send(sub + "updated", subscription("active"), 100) == "applied"
    assert await send(sub + "created", subscription("incomplete"), 100) == "stale"
    assert await send(sub + "created", subscription("incomplete"), 90) == "stale"
    assert await status_of(conn) == "active"
    # A failed invoice (newer API shape: parent.subscription_details) makes it past_due; the
    # older "active" update arriving late does not undo that.
    invoice = {
        "id": "in_1",
        "object": "invoice",
        "customer": "cus_A",
        "parent": {"subscription_details": {"subscription": "sub_1", "metadata": {}}},
    }
    assert await send("invoice.payment_failed", invoice, 110) == "applied"
    assert await send(sub + "updated", subscription("active"), 105) == "stale"
    assert await status_of(conn) == "past_due"
    # Deleted: an ended subscription never comes back, even from an event stamped later.
    assert await send(sub + "deleted", subscription("canceled"), 200) == "applied"
    assert await send(sub + "updated", subscription("active"), 150) == "stale"
    assert await send(sub + "updated", subscription("active"), 250) == "stale"
    assert await status_of(conn) == "canceled"
    # A new plan takes over; a late failure of the old one does not touch it.
    assert await send(sub + "created", subscription("active", "sub_2"), 300) == "applied"
    old = {**invoice, "subscription": "sub_1", "parent": None}
    assert await send("invoice.payment_failed", old, 400) == "stale"
    assert await status_of(conn) == "active"
    # Not ours, and not a kind we act on: recorded, answered 200, nothing changes.
    stranger = {**subscription("canceled", "sub_x"), "customer": "cus_x", "metadata": {}}
    assert await send(sub + "deleted", stranger, 500) == "unmatched"
    assert await send("charge.refunded", {"id": "ch_1"}, 500) == "ignored"
    assert await status_of(conn) == "active"
    assert await status_of(conn, AGENCY_B) == "active"


async def request_as_owner(conn: asyncpg.Connection, shop: str) -> None:
    """The role matrix's own entry point, called in SQL as the owner (what a Data API client
    could do past the API's guard)."""
    claims = {"sub": str(A_OWNER), "role": "authenticated"}
    async with as_user(conn, claims) as db:
        await db.fetch(
            "SELECT * FROM storeline_private.api_request_sync($1, 'SHOPIFY', 'INCREMENTAL')", shop
        )


async def test_an_inactive_agency_reads_but_does_not_sync(
    api: httpx.AsyncClient, token: Token, conn: asyncpg.Connection, db_dsn: str
) -> None:
    await conn.execute("UPDATE app_dashboard.sync_jobs SET status = 'CANCELLED'")
    r = await deliver(
        api, event("customer.subscription.updated", subscription("unpaid"), created=10)
    )
    assert r.json()["outcome"] == "applied"
    owner = auth(token, A_OWNER)
    assert (await api.get(f"/api/shops/{A1}", headers=owner)).status_code == 200
    assert (await api.get(f"/api/shops/{A1}/sync-status", headers=owner)).status_code == 200
    r = await api.post(f"/api/shops/{A1}/sync", json={}, headers=owner)
    assert (r.status_code, r.headers["content-type"]) == (402, "application/problem+json")
    assert "unpaid" in r.json()["detail"]
    # Another agency syncs as before; a shop that is not the caller's is still a 404.
    assert (
        await api.post(f"/api/shops/{B1}/sync", headers=auth(token, B_OWNER))
    ).status_code == 202
    assert (await api.post(f"/api/shops/{B1}/sync", headers=owner)).status_code == 404
    # Postgres refuses the request itself too, whoever asks past the API.
    with pytest.raises(asyncpg.PostgresError) as refused:
        await request_as_owner(conn, A1)
    assert refused.value.sqlstate == "SL402"
    # The scheduler skips the agency's shops and keeps scheduling the others.
    await conn.execute("UPDATE app_dashboard.sync_jobs SET status = 'CANCELLED'")
    pool = await asyncpg.create_pool(db_dsn, min_size=1, max_size=1)
    try:
        scheduled = await schedule_once(pool, WorkerSettings())
    finally:
        await pool.close()
    assert sorted(r["shop_id"] for r in scheduled) == [B1]
