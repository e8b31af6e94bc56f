"""An object's state at sandbox time and its CRM v3 JSON (`SimplePublicObject`).

Properties are strings, null when never set, and "" when set and then cleared (a deal's
`amount`); datetimes are ISO UTC with milliseconds unless those are zero; date-type properties
(`renewal_date`) are epoch-millisecond strings. `createdate`, the modified-date property and
`hs_object_id` always come back, whatever `properties=` asked for, as HubSpot does.

Reads (list, get) see every change at once; search sees `indexed_state`, the record as the search
index last stored it, which trails reads by up to the shop's `hubspot_search_lag_seconds`.
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from sandbox.hubspot.catalog import EXTRA_CURRENCIES, KINDS, STAGES
from sandbox.hubspot.generate import Plan, iso, plan, volume
from sandbox.world import ShopProfile, World

SINGULAR = {"deals": "deal", "contacts": "contact", "companies": "company"}
KNOWN: dict[str, frozenset[str]] = {
    "deals": frozenset(
        {
            "amount",
            "amount_in_home_currency",
            "closedate",
            "createdate",
            "deal_currency_code",
            "dealname",
            "dealstage",
            "dealtype",
            "description",
            "hs_closed_amount",
            "hs_deal_stage_probability",
            "hs_is_closed",
            "hs_is_closed_lost",
            "hs_is_closed_won",
            "hs_lastmodifieddate",
            "hs_next_step",
            "hs_object_id",
            "hs_projected_amount",
            "hubspot_owner_id",
            "pipeline",
            "renewal_date",
        }
    ),
    "contacts": frozenset(
        {
            "createdate",
            "email",
            "firstname",
            "hs_object_id",
            "lastmodifieddate",
            "lastname",
            "lifecyclestage",
            "phone",
            "company",
            "hubspot_owner_id",
        }
    ),
    "companies": frozenset(
        {
            "createdate",
            "domain",
            "hs_lastmodifieddate",
            "hs_object_id",
            "industry",
            "name",
            "numberofemployees",
            "city",
            "country",
            "hubspot_owner_id",
        }
    ),
}


@dataclass(frozen=True)
class State:
    plan: Plan
    props: dict[str, str]
    updated: datetime
    archived_at: datetime | None

    @property
    def archived(self) -> bool:
        return self.archived_at is not None


def state_at(p: Plan, now: datetime) -> State | None:
    """Fold a plan's events up to `now`; None if the object does not exist yet."""
    if p.created > now:
        return None
    props: dict[str, str] = {}
    updated = p.created
    for at, change in p.events:
        if at > now:
            break
        props.update(change)
        updated = at
    archived_at = p.archived_at if p.archived_at is not None and p.archived_at <= now else None
    if archived_at is not None:
        updated = max(updated, archived_at)
    props["createdate"] = iso(p.created)
    props[p.kind.modified_prop] = iso(updated)
    props["hs_object_id"] = p.id
    if p.kind.name == "deals":
        _derive_deal(props)
    return State(p, props, updated, archived_at)


def _derive_deal(props: dict[str, str]) -> None:
    """The calculated deal properties HubSpot maintains from stage and amount."""
    _, stage = STAGES[props["dealstage"]]
    amount = amount_of(props)
    probability = Decimal(stage.probability)
    if "amount" in props:
        props["amount_in_home_currency"] = home_amount(props)
    props["hs_deal_stage_probability"] = stage.probability
    props["hs_is_closed"] = str(stage.closed).lower()
    props["hs_is_closed_won"] = str(stage.won).lower()
    props["hs_is_closed_lost"] = str(stage.closed and not stage.won).lower()
    props["hs_closed_amount"] = str(amount) if stage.won else "0"
    props["hs_projected_amount"] = str((amount * probability).normalize())


def amount_of(props: dict[str, str]) -> Decimal:
    """A deal's amount as HubSpot's own rollups count it: null and "" are zero."""
    return Decimal(props.get("amount") or "0")


def home_amount(props: dict[str, str]) -> str:
    """`amount_in_home_currency`: the amount in the portal's company currency ("" when the
    amount is ""); a deal in an additional currency is converted at its rate, to the cent."""
    if not props.get("amount"):
        return props.get("amount") or ""
    # Only multi-currency portals set a code, and no additional currency is also a company
    # currency in the sandbox, so the code alone says whether the deal is converted.
    rates = {extra: rate for extra, rate, _ in EXTRA_CURRENCIES.values()}
    rate = rates.get(props.get("deal_currency_code") or "")
    if rate is None:
        return props["amount"]
    return str((Decimal(props["amount"]) * Decimal(rate)).quantize(Decimal("0.01")))


def home_amount_of(props: dict[str, str]) -> Decimal:
    """A deal's amount in the company currency as HubSpot's reports sum it (null, "" are 0)."""
    return Decimal(props.get("amount_in_home_currency") or "0")


def load(world: World, shop: ShopProfile, kind: str, index: int) -> State | None:
    return state_at(plan(world, shop, kind, index), world.now())


def index_lag(p: Plan, at: datetime, longest: float) -> timedelta:
    """How long the change at `at` takes to reach the search index: a deterministic 10-100 % of
    the shop's longest lag, different per change, so a later change can be searchable before an
    earlier one (search is not monotonic in hs_lastmodifieddate near `now`)."""
    share = 0.1 + 0.9 * (zlib.crc32(f"{p.id}:{at.isoformat()}".encode()) % 1000) / 999
    return timedelta(seconds=longest * share)


def indexed_state(p: Plan, now: datetime, longest: float) -> State | None:
    """The record as the search index holds it: its whole state as of its latest change whose
    re-indexing has finished by `now` (None while even its creation is not searchable)."""
    if p.created > now:
        return None
    changes = [p.created, *(at for at, _ in p.events)]
    if p.archived_at is not None:
        changes.append(p.archived_at)
    horizon = now - timedelta(seconds=longest)
    if all(at <= horizon or at > now for at in changes):
        return state_at(p, now)  # every change is older than the longest lag: fully indexed
    seen = [at for at in changes if at <= now and at + index_lag(p, at, longest) <= now]
    return state_at(p, max(seen)) if seen else None


def to_json(
    world: World,
    shop: ShopProfile,
    st: State,
    names: list[str] | None,
    associations: list[str] | None = None,
) -> dict[str, Any]:
    kind = st.plan.kind
    wanted = list(names) if names else list(kind.defaults)
    for always in ("createdate", kind.modified_prop, "hs_object_id"):
        if always not in wanted:
            wanted.append(always)
    props = {n: st.props.get(n) for n in sorted(wanted) if n in st.props or n in KNOWN[kind.name]}
    out: dict[str, Any] = {
        "id": st.plan.id,
        "properties": props,
        "createdAt": iso(st.plan.created),
        "updatedAt": iso(st.updated),
        "archived": st.archived,
    }
    if st.archived_at is not None:
        out["archivedAt"] = iso(st.archived_at)
    if associations:
        linked = _associations(world, shop, st, associations)
        if linked:
            out["associations"] = linked
    return out


def _associations(world: World, shop: ShopProfile, st: State, wanted: list[str]) -> dict[str, Any]:
    """Forward associations only (deal->company/contact, contact->company), live targets only."""
    out: dict[str, Any] = {}
    for target_kind, index in st.plan.associations:
        if target_kind not in wanted:
            continue
        target = load(world, shop, target_kind, index)
        if target is None or target.archived:
            continue
        kind_type = f"{SINGULAR[st.plan.kind.name]}_to_{SINGULAR[target_kind]}"
        bucket = out.setdefault(target_kind, {"results": []})
        bucket["results"].append({"id": target.plan.id, "type": kind_type})
    return out


def index_of(kind: str, object_id: str) -> int | None:
    """The generation index behind an object id, or None for ids this portal never issued."""
    if not object_id.isdigit():
        return None
    index = int(object_id) - KINDS[kind].id_base
    return index if index >= 0 else None


def exists_count(world: World, shop: ShopProfile, kind: str) -> int:
    return volume(world, shop, kind).count_by(world.now())
