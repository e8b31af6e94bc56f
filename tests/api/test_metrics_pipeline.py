"""The pipeline in the metrics routes, from the HubSpot facts: open amount per open stage, weighted
by the stage's probability, and over the range the deals won and lost, the amount won by the
deals' shop-local close day and the win rate, in the shop's currency only (a deal HubSpot
converted to it counts converted; any other currency is flagged, never summed); archived deals
are left out."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import asyncpg
import httpx

from tests.api.conftest import A_OWNER, Token
from tests.api.test_metrics import A1, RANGE, auth

STAGES = [  # (stage, order, probability, closed)
    ("appointmentscheduled", 0, "0.2", False),
    ("presentationscheduled", 1, "0.6", False),
    ("closedwon", 2, "1.0", True),
    ("closedlost", 3, "0.0", True),
]
# (deal, stage, amount, currency, closed at (UTC), archived); the shop is USD, America/New_York.
DEALS = [
    ("d1", "appointmentscheduled", "100.00", "USD", None, False),
    ("d2", "appointmentscheduled", None, "USD", None, False),  # no amount: counts as 0
    ("d3", "presentationscheduled", "50.00", "USD", None, False),
    ("d4", "presentationscheduled", "999.00", "EUR", None, False),  # flagged, not summed
    ("d5", "closedwon", "300.00", "USD", datetime(2024, 3, 2, 3, tzinfo=UTC), False),  # 03-01 NY
    ("d6", "closedwon", "200.00", "USD", datetime(2024, 3, 6, 2, tzinfo=UTC), False),  # 03-05 NY
    ("d7", "closedwon", "700.00", "EUR", datetime(2024, 3, 2, 15, tzinfo=UTC), False),
    ("d8", "closedlost", "80.00", "USD", datetime(2024, 3, 3, 15, tzinfo=UTC), False),
    ("d9", "closedwon", "1000.00", "USD", datetime(2024, 3, 2, 15, tzinfo=UTC), True),
    ("d10", "closedwon", "400.00", "USD", datetime(2024, 3, 1, 4, tzinfo=UTC), False),  # 02-29 NY
]
# Deals of a portal whose company currency is the shop's (USD): (deal, stage, amount, own
# currency, HubSpot's amount in the company currency, closed at). A deal without a currency is
# in the company currency (single-currency portals set none); a EUR deal counts converted.
CONVERTED = [
    ("d11", "appointmentscheduled", "40.00", None, "40.00", None),
    ("d12", "presentationscheduled", "10.00", "EUR", "11.00", None),
    ("d13", "closedwon", "100.00", "EUR", "110.00", datetime(2024, 3, 5, 15, tzinfo=UTC)),
]


async def _pipeline(conn: asyncpg.Connection) -> None:
    await conn.executemany(
        """INSERT INTO core_warehouse.crm_pipeline_stages (shop_id, pipeline_id, stage_id,
           stage_order, probability, is_closed, raw, sync_job_id)
           VALUES ($1, 'default', $2, $3, $4, $5, '{}', 1)""",
        [(A1, s, o, Decimal(p), c) for s, o, p, c in STAGES],
    )
    created = datetime(2024, 2, 1, tzinfo=UTC)
    await conn.executemany(
        """INSERT INTO core_warehouse.crm_deals (shop_id, deal_id, pipeline_id, stage_id, amount,
           currency, close_date, created_at, updated_at, archived, raw, sync_job_id)
           VALUES ($1, $2, 'default', $3, $4, $5, $6, $7, $7, $8, '{}', 1)""",
        [
            (A1, d, s, Decimal(a) if a else None, cur, closed, created, archived)
            for d, s, a, cur, closed, archived in DEALS
        ],
    )
    await conn.executemany(
        """INSERT INTO core_warehouse.crm_deals (shop_id, deal_id, pipeline_id, stage_id, amount,
           currency, company_currency, amount_in_company_currency, close_date, created_at,
           updated_at, raw, sync_job_id)
           VALUES ($1, $2, 'default', $3, $4, $5, 'USD', $6, $7, $8, $8, '{}', 1)""",
        [
            (A1, d, s, Decimal(a), cur, Decimal(home), closed, created)
            for d, s, a, cur, home, closed in CONVERTED
        ],
    )


async def test_open_and_won_amounts_in_the_shop_currency(
    tenants: asyncpg.Connection, api: httpx.AsyncClient, token: Token
) -> None:
    await _pipeline(tenants)
    r = await api.get(f"/api/shops/{A1}/metrics", params=RANGE, headers=auth(token, A_OWNER))
    assert r.status_code == 200, r.text
    pipeline = r.json()["kpis"]["pipeline"]
    assert {k: Decimal(v) for k, v in pipeline["open_by_stage"].items()} == {
        "appointmentscheduled": Decimal("140.00"),  # d1 + d11 (d2 has no amount)
        "presentationscheduled": Decimal("61.00"),  # d3 + d12 converted; d4 flagged
    }
    assert {k: Decimal(v) for k, v in pipeline["weighted_by_stage"].items()} == {
        "appointmentscheduled": Decimal("28.00"),  # x 0.2
        "presentationscheduled": Decimal("36.60"),  # x 0.6
    }
    assert Decimal(pipeline["open_amount"]) == Decimal("201.00")
    assert Decimal(pipeline["weighted_open_amount"]) == Decimal("64.60")
    assert (pipeline["open_deals"], pipeline["open_other_currency_deals"]) == (6, 1)
    assert Decimal(pipeline["won_amount"]) == Decimal("610.00")  # d5 + d6 + d13 converted
    # Won in the range: d5, d6, d7 (EUR, no conversion: flagged), d13; lost: d8.
    assert (pipeline["deals_won"], pipeline["deals_lost"]) == (4, 1)
    assert pipeline["won_other_currency_deals"] == 1
    assert Decimal(pipeline["win_rate"]) == Decimal("0.8")  # 4 / (4 + 1), not a mean of days
    assert pipeline["deals_created"] == 0  # every deal was created in February


async def test_reporting_weights_flags_and_win_rate(tenants: asyncpg.Connection) -> None:
    await _pipeline(tenants)
    stages = {
        r["stage_id"]: (r["open_deals"], r["open_amount"], r["weighted_amount"],
                        r["other_currency_deals"])
        for r in await tenants.fetch("SELECT * FROM reporting.pipeline_summary")
    }  # fmt: skip
    assert stages == {
        "appointmentscheduled": (3, Decimal("140.00"), Decimal("28.00"), 0),
        "presentationscheduled": (3, Decimal("61.00"), Decimal("36.60"), 1),
    }
    days = {
        r["day"].isoformat(): (r["deals_won"], r["deals_lost"], r["won_amount"],
                               r["won_other_currency"])
        for r in await tenants.fetch(
            "SELECT * FROM reporting.pipeline_daily WHERE deals_won + deals_lost > 0"
        )
    }  # fmt: skip
    assert days == {
        "2024-02-29": (1, 0, Decimal("400.00"), 0),
        "2024-03-01": (1, 0, Decimal("300.00"), 0),
        "2024-03-02": (1, 0, Decimal("0"), 1),
        "2024-03-03": (0, 1, Decimal("0"), 0),
        "2024-03-05": (2, 0, Decimal("310.00"), 0),
    }
    created = await tenants.fetchval("SELECT sum(deals_created) FROM reporting.pipeline_daily")
    assert created == len(DEALS) + len(CONVERTED) - 1  # the archived deal has left the CRM
