"""Expected HubSpot pipeline figures, folded straight from the sandbox's deal plans.

`daily` buckets by shop-local day: deals created, and deals won/lost with the won amount on their
close date, all as of sandbox time and excluding archived deals (an archived deal has left the
CRM; the warehouse must drop it too). `pipeline_now` is open amount, count and amount weighted
by the stage's probability, per stage. A deal
with no amount (null, or "" once cleared) counts as a deal with amount 0, as HubSpot's own
rollups count it; an open deal without a close date needs none here (only closed deals are
bucketed by close date, and closing sets one). Amounts are HubSpot's `amount_in_home_currency`,
in the portal's company currency (the shop's, in every sandbox portal): a deal in an additional
currency counts converted at the portal's rate, as HubSpot's own reports sum it.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator
from datetime import date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any
from zoneinfo import ZoneInfo

from sandbox.hubspot.catalog import STAGES
from sandbox.hubspot.records import State, exists_count, home_amount_of, load
from sandbox.world import ShopProfile, World


def _deals(world: World, shop: ShopProfile) -> Iterator[State]:
    for index in range(exists_count(world, shop, "deals")):
        st = load(world, shop, "deals", index)
        if st is not None and not st.archived:
            yield st


def _local_day(stamp: str, tz: ZoneInfo) -> date:
    return datetime.fromisoformat(stamp.replace("Z", "+00:00")).astimezone(tz).date()


def daily(world: World, shop: ShopProfile, date_from: date, date_to: date) -> list[dict[str, Any]]:
    tz = ZoneInfo(shop.timezone)
    created: dict[date, int] = defaultdict(int)
    won: dict[date, int] = defaultdict(int)
    lost: dict[date, int] = defaultdict(int)
    won_amount: dict[date, Decimal] = defaultdict(Decimal)
    for st in _deals(world, shop):
        created[_local_day(st.props["createdate"], tz)] += 1
        _, stage = STAGES[st.props["dealstage"]]
        if stage.closed:
            closed_on = _local_day(st.props["closedate"], tz)
            if stage.won:
                won[closed_on] += 1
                won_amount[closed_on] += home_amount_of(st.props)
            else:
                lost[closed_on] += 1
    out: list[dict[str, Any]] = []
    day = date_from
    while day <= date_to:
        out.append(
            {
                "date": day.isoformat(),
                "deals_created": created[day],
                "deals_won": won[day],
                "deals_lost": lost[day],
                "won_amount": str(won_amount[day].quantize(Decimal("0.01"))),
                "currency": shop.currency,
            }
        )
        day += timedelta(days=1)
    return out


def pipeline_now(world: World, shop: ShopProfile) -> dict[str, dict[str, Any]]:
    """Open (not closed, not archived) deals per stage id: pipeline, count and amount."""
    out: dict[str, dict[str, Any]] = {}
    for st in _deals(world, shop):
        pipeline, stage = STAGES[st.props["dealstage"]]
        if stage.closed:
            continue
        entry = out.setdefault(
            stage.id,
            {
                "pipeline": pipeline.id,
                "deals": 0,
                "amount": Decimal("0.00"),
                "weighted": Decimal(0),
            },
        )
        entry["deals"] += 1
        entry["amount"] += home_amount_of(st.props)
        entry["weighted"] += home_amount_of(st.props) * Decimal(stage.probability)
    for entry in out.values():
        entry["amount"] = str(entry["amount"].quantize(Decimal("0.01")))
        # to the cent half away from zero, as Postgres's round() and HubSpot's reports show it
        entry["weighted"] = str(entry["weighted"].quantize(Decimal("0.01"), ROUND_HALF_UP))
    return out
