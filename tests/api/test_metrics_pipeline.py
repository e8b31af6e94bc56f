"""The pipeline in the metrics routes, from the HubSpot facts: open amount per open stage and the
amount won over the range by the deals' shop-local close day, in the shop's currency only (a deal
in another currency is flagged in reporting, never summed); archived deals are left out."""

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


async def test_open_and_won_amounts_in_the_shop_currency(
    tenants: asyncpg.Connection, api: httpx.AsyncClient, token: Token
) -> None:
    await _pipeline(tenants)
    r = await api.get(f"/api/shops/{A1}/metrics", params=RANGE, headers=auth(token, A_OWNER))
    assert r.status_code == 200, r.text
    pipeline = r.json()["kpis"]["pipeline"]
    assert {k: Decimal(v) for k, v in pipeline["open_by_stage"].items()} == {
        "appointmentscheduled": Decimal("100.00"),
        "presentationscheduled": Decimal("50.00"),
    }
    assert Decimal(pipeline["won_amount"]) == Decimal("500.00")  # d5 + d6


async def test_reporting_weights_flags_and_win_rate(tenants: asyncpg.Connection) -> None:
    await _pipeline(tenants)
    stages = {
        r["stage_id"]: (r["open_deals"], r["open_amount"], r["weighted_amount"],
                        r["other_currency_deals"])
        for r in await tenants.fetch("SELECT * FROM reporting.pipeline_summary")
    }  # fmt: skip
    assert stages == {
        "appointmentscheduled": (2, Decimal("100.00"), Decimal("20.00"), 0),
        "presentationscheduled": (2, Decimal("50.00"), Decimal("30.00"), 1),
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
        "2024-03-05": (1, 0, Decimal("200.00"), 0),
    }
    created = await tenants.fetchval("SELECT sum(deals_created) FROM reporting.pipeline_daily")
    assert created == len(DEALS) - 1  # the archived deal has left the CRM
