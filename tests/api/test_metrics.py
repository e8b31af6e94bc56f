"""Metrics over HTTP: range totals and AOV recomputed here from the rows inserted, zero days, the
inclusive range, recent orders, freshness, RLS visibility, shop-local default ranges, 400s."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any
from zoneinfo import ZoneInfo

import asyncpg
import httpx
import pytest

from storeline.core import credentials
from storeline.core.enums import Platform
from tests.api.conftest import A_OWNER, A_STAFF, B_OWNER, Token

A1, A2, B1 = "a1.myshopify.com", "a2.myshopify.com", "b1.myshopify.com"
MONEY = (
    "gross_sales",
    "discounts",
    "returns",
    "net_sales",
    "shipping",
    "taxes",
    "duties",
    "additional_fees",
    "return_fees",
    "total_sales",
)
RANGE = {"from": "2024-03-01", "to": "2024-03-05"}


def kpi(orders: int, gross: str, disc: str = "0", ret: str = "0", ship: str = "0", tax: str = "0",
        duties: str = "0", fees: str = "0", return_fees: str = "0") -> dict[str, Any]:  # fmt: skip
    g, d, r, s, t, du, f, rf = (
        Decimal(x) for x in (gross, disc, ret, ship, tax, duties, fees, return_fees)
    )
    net = g - d - r
    return {
        "orders": orders,
        "gross_sales": g,
        "discounts": d,
        "returns": r,
        "net_sales": net,
        "shipping": s,
        "taxes": t,
        "duties": du,
        "additional_fees": f,
        "return_fees": rf,
        "total_sales": net + s + t + du + f + rf,
    }


# Rollup rows per shop and day. a1's order counts differ per day, so the mean of daily AOVs
# (100.00, 27.02, 29.75 → 52.26) is far from the range's AOV (300.04 / 8 = 37.505 → 37.51
# half-up; 37.50 half-even or in floats). 03-03 has no row; 02-29 and 03-06 sit just outside.
ROLLUP: dict[str, dict[date, dict[str, Any]]] = {
    A1: {
        date(2024, 2, 29): kpi(7, "700.00"),
        date(2024, 3, 1): kpi(1, "100.00", ship="5.00", tax="8.00"),
        date(2024, 3, 2): kpi(3, "90.06", "9.00", "0", "10.00", "6.48", "1.50", ".25"),
        date(2024, 3, 4): kpi(0, "0", ret="20.00", ship="-2.00", tax="-1.60", return_fees="3.00"),
        date(2024, 3, 5): kpi(4, "120.98", "2.00", tax="9.52"),
        date(2024, 3, 6): kpi(9, "900.00"),
    },
    A2: {date(2024, 3, 3): kpi(1, "1000.00")},
    B1: {date(2024, 3, 2): kpi(5, "999.00", "1.00"), date(2024, 3, 5): kpi(2, "10.00")},
}  # fmt: skip

NY = ZoneInfo("America/New_York")


def order(shop: str, oid: int, at: datetime, **extra: Any) -> dict[str, Any]:
    return {
        "shop_id": shop,
        "id": oid,
        "name": f"#{oid}",
        "processed_at": at,
        "processed_date": at.astimezone(NY).date(),
        "test": False,
        "deleted_at": None,
        "cancelled_at": None,
        "financial_status": "PAID",
        "fulfillment_status": "UNFULFILLED",
        "total_price": Decimal(oid) + Decimal("0.99"),
        **extra,
    }


def a1_orders() -> list[dict[str, Any]]:
    start = datetime(2024, 3, 1, 9, tzinfo=NY)
    rows = [order(A1, 1000 + i, start + timedelta(hours=9 * i)) for i in range(12)]
    # 23:30 in New York on 03-05 is 03-06 in UTC: still the shop's 03-05, so in the range.
    late = datetime(2024, 3, 5, 23, 30, tzinfo=NY)
    rows.append(order(A1, 2000, late, cancelled_at=late, financial_status="REFUNDED"))
    rows.append(order(A1, 2001, late + timedelta(minutes=1), test=True))
    rows.append(order(A1, 2002, late + timedelta(minutes=2), deleted_at=late))
    rows.append(order(A1, 2003, datetime(2024, 3, 6, 0, 30, tzinfo=NY)))  # out of range
    rows.append(order(B1, 3000, late + timedelta(minutes=3)))
    return rows


@pytest.fixture
async def data(tenants: asyncpg.Connection) -> asyncpg.Connection:
    conn = tenants
    await conn.executemany(
        """INSERT INTO reporting.shop_daily_kpis (shop_id, day, orders, gross_sales, discounts,
           returns, net_sales, shipping, taxes, duties, additional_fees, return_fees,
           total_sales)
           VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)""",
        [
            (shop, day, k["orders"], *(k[m] for m in MONEY))
            for shop, days in ROLLUP.items()
            for day, k in days.items()
        ],
    )
    await conn.executemany(
        """INSERT INTO core_warehouse.orders (shop_id, id, name, created_at, processed_at,
           processed_date, updated_at, test, deleted_at, cancelled_at, financial_status,
           fulfillment_status, total_price, current_total_price, raw, sync_job_id)
           VALUES ($1, $2, $3, $4, $4, $5, $4, $6, $7, $8, $9, $10, $11, $11, '{}', 1)""",
        [tuple(o.values()) for o in a1_orders()],
    )
    await credentials.save(
        conn, shop_id=A1, platform=Platform.META, secrets={"access_token": "x"}, metadata={}
    )
    await conn.execute(
        """INSERT INTO app_dashboard.sync_cursors (shop_id, platform, last_success_at) VALUES
           ($1, 'SHOPIFY', now() - interval '20 minutes 30 seconds'),
           ($2, 'SHOPIFY', now() - interval '5 minutes 30 seconds')""",
        A1,
        B1,
    )
    return conn


def auth(token: Token, user: object) -> dict[str, str]:
    return {"Authorization": f"Bearer {token(user)}"}


def expected_kpis(shop: str, first: date, last: date) -> dict[str, Any]:
    days = [k for d, k in ROLLUP[shop].items() if first <= d <= last]
    totals: dict[str, Any] = {m: sum((k[m] for k in days), Decimal(0)) for m in MONEY}
    totals["orders"] = sum(k["orders"] for k in days)
    aov = (totals["gross_sales"] - totals["discounts"]) / totals["orders"]
    totals["aov"] = aov.quantize(Decimal("0.01"), ROUND_HALF_UP)
    return totals


def assert_money(got: dict[str, Any], want: dict[str, Any]) -> None:
    for m in (*MONEY, "aov"):
        assert isinstance(got[m], str), (m, got[m])  # exact decimals on the wire, never floats
        assert Decimal(got[m]) == want[m], (m, got[m], want[m])
    assert got["orders"] == want["orders"]


async def test_range_totals_and_aov_match_an_independent_sum(
    data: asyncpg.Connection, api: httpx.AsyncClient, token: Token
) -> None:
    r = await api.get(f"/api/shops/{A1}/metrics", params=RANGE, headers=auth(token, A_OWNER))
    assert r.status_code == 200, r.text
    body = r.json()
    assert (body["shop_id"], body["currency"], body["timezone"]) == (A1, "USD", "America/New_York")
    assert (body["from"], body["to"]) == ("2024-03-01", "2024-03-05")
    want = expected_kpis(A1, date(2024, 3, 1), date(2024, 3, 5))
    assert want["aov"] == Decimal("37.51")  # the fixture's point: half-up, whole range
    assert_money(body["kpis"], want)
    daily_aovs = [Decimal(d["aov"]) for d in body["daily"] if d["aov"] is not None]
    assert sum(daily_aovs) / len(daily_aovs) != Decimal(body["kpis"]["aov"])
    for field in ("ad_spend", "mer", "roas", "sessions", "users", "pipeline"):
        assert body["kpis"][field] is None
    assert body["top_campaigns"] == []

    daily = {d["day"]: d for d in body["daily"]}
    assert list(daily) == [f"2024-03-0{i}" for i in range(1, 6)]  # inclusive, every day
    for day, k in ROLLUP[A1].items():
        if day.isoformat() in daily:
            got = daily[day.isoformat()]
            assert got["orders"] == k["orders"]
            assert all(Decimal(got[m]) == k[m] for m in MONEY), got
    empty = daily["2024-03-03"]
    assert (empty["orders"], empty["aov"]) == (0, None)
    assert all(Decimal(empty[m]) == 0 for m in MONEY)
    assert daily["2024-03-04"]["aov"] is None  # returns only, no orders
    assert Decimal(daily["2024-03-02"]["aov"]) == Decimal("27.02")

    # One day, and a range that only touches the outside rows.
    one = await api.get(
        f"/api/shops/{A1}/metrics",
        params={"from": "2024-03-05", "to": "2024-03-05"},
        headers=auth(token, A_OWNER),
    )
    assert_money(one.json()["kpis"], expected_kpis(A1, date(2024, 3, 5), date(2024, 3, 5)))
    assert len(one.json()["daily"]) == 1


async def test_recent_orders_are_the_latest_real_ones_in_range(
    data: asyncpg.Connection, api: httpx.AsyncClient, token: Token
) -> None:
    r = await api.get(f"/api/shops/{A1}/metrics", params=RANGE, headers=auth(token, A_STAFF))
    assert r.status_code == 200, r.text
    recent = r.json()["recent_orders"]
    first, last = date(2024, 3, 1), date(2024, 3, 5)
    want = sorted(
        (
            o
            for o in a1_orders()
            if o["shop_id"] == A1
            and first <= o["processed_date"] <= last
            and not o["test"]
            and o["deleted_at"] is None
        ),
        key=lambda o: o["processed_at"],
        reverse=True,
    )[:10]
    assert [o["id"] for o in recent] == [o["id"] for o in want]
    top = recent[0]
    assert (top["id"], top["name"]) == (2000, "#2000")
    assert (top["day"], top["cancelled"], top["financial_status"]) == (
        "2024-03-05",
        True,
        "REFUNDED",
    )
    assert (top["total"], top["fulfillment_status"]) == ("2000.99", "UNFULFILLED")
    assert datetime.fromisoformat(top["processed_at"]).astimezone(UTC).day == 6
    assert all(not o["cancelled"] for o in recent[1:])


async def test_freshness_per_connected_platform(
    data: asyncpg.Connection, api: httpx.AsyncClient, token: Token
) -> None:
    r = await api.get(f"/api/shops/{A1}/metrics", params=RANGE, headers=auth(token, A_OWNER))
    freshness = r.json()["freshness"]
    assert set(freshness) == {"SHOPIFY", "META"}
    assert freshness["SHOPIFY"]["stale_minutes"] == 20
    assert freshness["SHOPIFY"]["last_success_at"] is not None
    assert freshness["META"] == {
        "credential_status": "OK",
        "last_success_at": None,
        "stale_minutes": None,
    }


async def test_only_the_callers_shops_have_metrics(
    data: asyncpg.Connection, api: httpx.AsyncClient, token: Token
) -> None:
    ok = await api.get(f"/api/shops/{A1}/metrics", params=RANGE, headers=auth(token, A_STAFF))
    assert ok.status_code == 200
    for shop in (B1, A2, "nope.myshopify.com"):  # a2 is A's, but not linked to the staff member
        r = await api.get(f"/api/shops/{shop}/metrics", params=RANGE, headers=auth(token, A_STAFF))
        assert r.status_code == 404, r.text
        assert r.headers["content-type"].startswith("application/problem+json")
        assert "999" not in r.text
    b = await api.get(f"/api/shops/{B1}/metrics", params=RANGE, headers=auth(token, B_OWNER))
    assert b.status_code == 200
    assert b.json()["currency"] == "EUR"
    assert_money(b.json()["kpis"], expected_kpis(B1, date(2024, 3, 1), date(2024, 3, 5)))
    assert [o["id"] for o in b.json()["recent_orders"]] == [3000]
    assert (await api.get(f"/api/shops/{A1}/metrics")).status_code == 401


async def test_all_shops_side_by_side(
    data: asyncpg.Connection, api: httpx.AsyncClient, token: Token
) -> None:
    first, last = date(2024, 3, 1), date(2024, 3, 5)
    seen = {}
    for user in (A_OWNER, A_STAFF, B_OWNER):
        r = await api.get("/api/metrics", params=RANGE, headers=auth(token, user))
        assert r.status_code == 200, r.text
        seen[user] = r.json()["shops"]
    # Sorted by total sales, not by name: A2's 1000.00 before A1's.
    assert [s["id"] for s in seen[A_OWNER]] == [A2, A1]
    assert [s["id"] for s in seen[A_STAFF]] == [A1]
    assert [s["id"] for s in seen[B_OWNER]] == [B1]
    a2, a1 = seen[A_OWNER]
    assert (a1["name"], a1["currency"], a1["from"], a1["to"]) == ("A1", "USD", *RANGE.values())
    assert_money(a1["kpis"], expected_kpis(A1, first, last))
    assert_money(a2["kpis"], expected_kpis(A2, first, last))
    assert_money(seen[B_OWNER][0]["kpis"], expected_kpis(B1, first, last))
    assert a1["staleness"] == {"max_stale_minutes": 20, "stale_platforms": ["META", "SHOPIFY"]}
    assert a2["staleness"] == {"max_stale_minutes": None, "stale_platforms": []}
    assert seen[B_OWNER][0]["staleness"] == {"max_stale_minutes": 5, "stale_platforms": []}


async def test_default_range_ends_today_in_each_shops_timezone(
    tenants: asyncpg.Connection, api: httpx.AsyncClient, token: Token
) -> None:
    # UTC+14 and UTC-11: at any instant at least one of them is on another date than UTC, and
    # they are never on the same date as each other, so a UTC "today" cannot pass.
    zones = {A1: "Pacific/Kiritimati", A2: "Pacific/Pago_Pago"}
    for shop, zone in zones.items():
        await tenants.execute(
            "UPDATE app_dashboard.shops SET timezone = $2 WHERE id = $1", shop, zone
        )

    def today(shop: str) -> date:
        return datetime.now(ZoneInfo(zones[shop])).date()

    before = {shop: today(shop) for shop in zones}
    single = {}
    for shop in zones:
        r = await api.get(f"/api/shops/{shop}/metrics", headers=auth(token, A_OWNER))
        assert r.status_code == 200, r.text
        single[shop] = r.json()
    side = {
        s["id"]: s
        for s in (await api.get("/api/metrics", headers=auth(token, A_OWNER))).json()["shops"]
    }
    after = {shop: today(shop) for shop in zones}
    for shop in zones:
        for body in (single[shop], side[shop]):
            last = date.fromisoformat(body["to"])
            assert last in {before[shop], after[shop]}, (shop, body["to"])
            assert date.fromisoformat(body["from"]) == last - timedelta(days=29)
        assert len(single[shop]["daily"]) == 30
    assert single[A1]["to"] != single[A2]["to"]
    # Only `to` given: 30 days ending there.
    r = await api.get(
        f"/api/shops/{A1}/metrics", params={"to": "2024-03-05"}, headers=auth(token, A_OWNER)
    )
    assert (r.json()["from"], r.json()["to"]) == ("2024-02-05", "2024-03-05")


BAD_RANGES = [
    ({"from": "2024-13-01", "to": "2024-12-31"}, "YYYY-MM-DD"),
    ({"from": "yesterday"}, "YYYY-MM-DD"),
    ({"to": "20240305"}, "YYYY-MM-DD"),
    ({"from": "2024-03-06", "to": "2024-03-05"}, "after"),
    ({"from": "2199-01-01"}, "shop's timezone"),
    ({"from": "2022-01-01", "to": "2024-01-02"}, "731 days"),
]


async def test_bad_ranges_are_400_problems(
    tenants: asyncpg.Connection, api: httpx.AsyncClient, token: Token
) -> None:
    for params, mentions in BAD_RANGES:
        for url in (f"/api/shops/{A1}/metrics", "/api/metrics"):
            r = await api.get(url, params=params, headers=auth(token, A_OWNER))
            # 400: not a day as the schema states it; 422: days that make no range.
            assert r.status_code in (400, 422), (url, params, r.text)
            assert r.headers["content-type"].startswith("application/problem+json")
            assert mentions in r.json()["detail"], r.text
    # 731 days (two years with a leap day) is the longest range allowed.
    r = await api.get(
        f"/api/shops/{A1}/metrics",
        params={"from": "2022-01-01", "to": "2024-01-01"},
        headers=auth(token, A_OWNER),
    )
    assert r.status_code == 200, r.text
    assert len(r.json()["daily"]) == 731


async def test_spend_mer_roas_and_top_campaigns_from_meta_facts(
    data: asyncpg.Connection, api: httpx.AsyncClient, token: Token
) -> None:
    """Spend in the shop's currency enters MER and ROAS; an ad account in another currency is
    left out, never summed; campaigns rank by spend over the range."""
    ads = [  # (account, ad, day, campaign, currency, spend, purchase value)
        ("act_1", "ad1", date(2024, 3, 1), "c1", "USD", "40.00", "120.00"),
        ("act_1", "ad2", date(2024, 3, 2), "c1", "USD", "10.00", "0"),
        ("act_1", "ad3", date(2024, 3, 2), "c2", "USD", "25.50", "51.00"),
        ("act_1", "ad3", date(2024, 3, 9), "c2", "USD", "999.00", "0"),  # outside the range
        ("act_2", "ad9", date(2024, 3, 2), "c9", "EUR", "500.00", "900.00"),  # other currency
    ]
    await data.executemany(
        """INSERT INTO core_warehouse.fact_marketing_campaign_daily (shop_id, platform,
           account_id, ad_id, day, campaign_id, campaign_name, currency, spend, purchase_value,
           raw, sync_job_id)
           VALUES ($1, 'META', $2, $3, $4, $5, 'Campaign ' || $5, $6, $7, $8, '{}', 1)""",
        [(A1, a, ad, d, c, cur, Decimal(s), Decimal(v)) for a, ad, d, c, cur, s, v in ads],
    )
    await data.execute(
        """INSERT INTO core_warehouse.fact_marketing_daily (shop_id, platform, day, currency,
           spend, purchase_value)
           SELECT shop_id, platform, day, currency, sum(spend), sum(purchase_value)
           FROM core_warehouse.fact_marketing_campaign_daily GROUP BY 1, 2, 3, 4"""
    )
    await data.execute(
        """INSERT INTO reporting.campaign_daily (shop_id, platform, day, campaign_id, currency,
           campaign_name, spend, purchase_value)
           SELECT shop_id, platform, day, campaign_id, currency, max(campaign_name), sum(spend),
                  sum(purchase_value)
           FROM core_warehouse.fact_marketing_campaign_daily GROUP BY 1, 2, 3, 4, 5"""
    )
    r = await api.get(f"/api/shops/{A1}/metrics", params=RANGE, headers=auth(token, A_OWNER))
    assert r.status_code == 200, r.text
    body = r.json()
    kpis = body["kpis"]
    spend = Decimal("75.50")
    assert Decimal(kpis["ad_spend"]) == spend
    total = expected_kpis(A1, date(2024, 3, 1), date(2024, 3, 5))["total_sales"]
    assert Decimal(kpis["mer"]) == (total / spend).quantize(Decimal("0.01"), ROUND_HALF_UP)
    assert {k: Decimal(v) for k, v in kpis["roas"].items()} == {"META": Decimal("2.26")}
    campaigns = [(c["campaign_id"], Decimal(c["spend"])) for c in body["top_campaigns"]]
    assert campaigns == [("c1", Decimal("50.00")), ("c2", Decimal("25.50"))]
    accounts = {a["account_id"]: a["currency_matches_shop"] for a in body["ad_accounts"]}
    assert accounts == {"act_1": True, "act_2": False}  # the EUR account is shown, not summed


async def test_traffic_from_ga4_day_totals(
    data: asyncpg.Connection, api: httpx.AsyncClient, token: Token
) -> None:
    """Sessions, new users and the ratios add up over the range from their parts; users are
    never summed: a day's own count, or GA4's count over exactly the range asked when the
    connector has one, else a mean of days beside each day's count; a property in another
    timezone than the shop's is flagged."""
    days = [  # (day, sessions, users, new users, engaged, transactions, revenue)
        (date(2024, 3, 1), 100, 80, 50, 60, 2, "150.00"),
        (date(2024, 3, 2), 300, 210, 120, 150, 9, "600.00"),
        (date(2024, 3, 9), 999, 999, 999, 999, 99, "9999.00"),  # outside the range
    ]
    await data.executemany(
        """INSERT INTO core_warehouse.fact_web_traffic_day_totals (shop_id, property_id, day,
           property_timezone, currency, sessions, users, new_users, engaged_sessions,
           transactions, purchase_revenue, sync_job_id)
           VALUES ($1, '1', $2, 'America/Los_Angeles', 'USD', $3, $4, $5, $6, $7, $8, 1)""",
        [(A1, d, s, u, n, e, x, Decimal(r)) for d, s, u, n, e, x, r in days],
    )
    r = await api.get(f"/api/shops/{A1}/metrics", params=RANGE, headers=auth(token, A_OWNER))
    assert r.status_code == 200, r.text
    kpis = r.json()["kpis"]
    assert (kpis["sessions"], kpis["new_users"], kpis["users"]) == (400, 170, None)
    assert Decimal(kpis["avg_daily_users"]) == Decimal("145.00")
    assert Decimal(kpis["engagement_rate"]) == Decimal("0.5250")
    assert Decimal(kpis["conversion_rate"]) == Decimal("0.0275")
    assert Decimal(kpis["revenue_per_session"]) == Decimal("1.88")
    assert kpis["traffic_timezone_matches_shop"] is False
    traffic = {d["day"]: d["traffic"] for d in r.json()["daily"]}
    assert traffic["2024-03-02"]["users"] == 210  # each day's own count, never summed
    assert traffic["2024-03-03"] is None
    one_day = {"from": "2024-03-02", "to": "2024-03-02"}
    r = await api.get(f"/api/shops/{A1}/metrics", params=one_day, headers=auth(token, A_OWNER))
    assert r.json()["kpis"]["users"] == 210
    # A range GA4 counted users over (here 03-01..03-05: fewer than 80 + 210, people return).
    await data.execute(
        """INSERT INTO core_warehouse.fact_web_traffic_range_totals (shop_id, property_id,
           first_day, last_day, sessions, users, new_users, sync_job_id)
           VALUES ($1, '1', '2024-03-01', '2024-03-05', 400, 255, 170, 1)""",
        A1,
    )
    r = await api.get(f"/api/shops/{A1}/metrics", params=RANGE, headers=auth(token, A_OWNER))
    assert r.json()["kpis"]["users"] == 255
