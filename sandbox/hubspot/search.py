"""CRM search: filterGroups (OR of ANDed filters), one sort rule, offset paging by `after`.

The limits are HubSpot's: at most 5 filter groups, 6 filters per group, 18 in all; one sort
rule ("Only one sorting rule can be applied to any search"); limit <= 200; archived objects
never match; and a query can be paged through its first 10,000 results only. `total` still
reports every match, and the page that ends at 10,000 still offers `paging.next.after =
"10000"`, whose request then fails with a 400, exactly the trap a connector must avoid by
re-slicing its hs_lastmodifieddate window (and, when more than 10,000 records share one
timestamp, by hs_object_id within it).

Search is eventually consistent: filters and sorts see `records.indexed_state` (the record as the
index last stored it, up to `hubspot_search_lag_seconds` behind), while each result's body is
the record as it is now. So a just-changed record is missing from a window it now belongs to,
and one whose old timestamp matched comes back with `updatedAt` past the window's upper bound.
"""

from __future__ import annotations

import json
import threading
from collections import OrderedDict
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any

from sandbox.hubspot.catalog import KINDS, MAX_LIFE
from sandbox.hubspot.errors import HubSpotError
from sandbox.hubspot.generate import bulk_edits, plan, start_of, volume
from sandbox.hubspot.records import State, indexed_state
from sandbox.world import ShopProfile, World

MAX_RESULTS = 10_000
MAX_PAGE = 200
DATE_PROPS = frozenset(
    {"createdate", "hs_lastmodifieddate", "lastmodifieddate", "closedate", "renewal_date"}
)
NUMBER_PROPS = frozenset(
    {
        "amount",
        "amount_in_home_currency",
        "hs_closed_amount",
        "hs_deal_stage_probability",
        "hs_object_id",
        "hs_projected_amount",
        "numberofemployees",
    }
)
OPERATORS = frozenset(
    {
        "EQ",
        "NEQ",
        "LT",
        "LTE",
        "GT",
        "GTE",
        "BETWEEN",
        "IN",
        "NOT_IN",
        "HAS_PROPERTY",
        "NOT_HAS_PROPERTY",
        "CONTAINS_TOKEN",
        "NOT_CONTAINS_TOKEN",
    }
)
Value = datetime | Decimal | str


def invalid(message: str) -> HubSpotError:
    return HubSpotError(400, message, "VALIDATION_ERROR")


def typed(prop: str, raw: Any) -> Value:
    """A property or filter value as something comparable: datetimes, decimals or text."""
    text = str(raw)
    if prop in DATE_PROPS:
        if text.lstrip("-").isdigit():
            return datetime.fromtimestamp(int(text) / 1000, UTC)
        try:
            parsed = datetime.fromisoformat(text.replace("Z", "+00:00"))
        except ValueError:
            raise invalid(f"{text} is not a valid date for {prop}.") from None
        return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)
    if prop in NUMBER_PROPS:
        try:
            return Decimal(text)
        except InvalidOperation:
            raise invalid(f"{text} is not a valid number for {prop}.") from None
    return text.lower()


def _check(flt: dict[str, Any], props: dict[str, str]) -> bool:
    prop, op = str(flt.get("propertyName", "")), str(flt.get("operator", "EQ"))
    raw = props.get(prop)
    if op == "HAS_PROPERTY":
        return bool(raw)
    if op == "NOT_HAS_PROPERTY":
        return not raw
    if not raw:
        return op in ("NEQ", "NOT_IN", "NOT_CONTAINS_TOKEN")
    have = typed(prop, raw)
    if op in ("IN", "NOT_IN"):
        found = any(have == typed(prop, v) for v in flt.get("values", []))
        return found if op == "IN" else not found
    if op in ("CONTAINS_TOKEN", "NOT_CONTAINS_TOKEN"):
        token = str(flt.get("value", "")).strip("*").lower()
        return (token in str(have)) == (op == "CONTAINS_TOKEN")
    want = typed(prop, flt.get("value", ""))
    if op == "BETWEEN":
        high = typed(prop, flt.get("highValue", ""))
        return want <= have <= high  # type: ignore[operator]
    compare: dict[str, Callable[[Any, Any], bool]] = {
        "EQ": lambda a, b: a == b,
        "NEQ": lambda a, b: a != b,
        "LT": lambda a, b: a < b,
        "LTE": lambda a, b: a <= b,
        "GT": lambda a, b: a > b,
        "GTE": lambda a, b: a >= b,
    }
    return compare[op](have, want)


def validate(body: dict[str, Any]) -> tuple[list[dict[str, Any]], int, int]:
    groups = list(body.get("filterGroups") or [])
    if len(groups) > 5:
        raise invalid(f"Too many filter groups ({len(groups)}); the maximum is 5.")
    total = 0
    for group in groups:
        filters = list(group.get("filters") or [])
        total += len(filters)
        if len(filters) > 6:
            raise invalid(f"Too many filters in a group ({len(filters)}); the maximum is 6.")
        for flt in filters:
            if flt.get("operator", "EQ") not in OPERATORS:
                raise invalid(f"Unknown operator {flt.get('operator')}.")
    if total > 18:
        raise invalid(f"Too many filters ({total}); the maximum is 18.")
    if len(body.get("sorts") or []) > 1:
        raise invalid("Only one sorting rule can be applied to any search.")
    try:
        limit = int(body.get("limit", 10))
        after = int(body.get("after") or 0)
    except (TypeError, ValueError):
        raise invalid("limit and after must be integers.") from None
    if limit < 1 or limit > MAX_PAGE:
        raise invalid(f"limit must be between 1 and {MAX_PAGE}, was {limit}.")
    if after < 0 or after >= MAX_RESULTS or after + limit > MAX_RESULTS:
        raise invalid(
            f"Cannot page past {MAX_RESULTS} results: after={after} with limit={limit}. "
            "Narrow the query, for example by hs_lastmodifieddate, to read further."
        )
    return groups, limit, after


def _when(prop: str, raw: Any) -> datetime:
    value = typed(prop, raw)
    assert isinstance(value, datetime)  # date properties always parse to datetimes
    return value


def _created_window(
    kind: str, groups: list[dict[str, Any]]
) -> tuple[datetime | None, datetime | None]:
    """Bounds on creation time implied by every group's date filters (None = unbounded)."""
    modified = KINDS[kind].modified_prop
    lows: list[datetime | None] = []
    highs: list[datetime | None] = []
    for group in groups or [{"filters": []}]:
        low: datetime | None = None
        high: datetime | None = None
        for flt in group.get("filters") or []:
            prop, op = flt.get("propertyName"), flt.get("operator", "EQ")
            if prop not in (modified, "createdate"):
                continue
            slack = MAX_LIFE if prop == modified else timedelta(0)
            value = _when(str(prop), flt.get("value", ""))
            if op in ("GT", "GTE", "EQ", "BETWEEN"):
                low = value - slack if low is None else max(low, value - slack)
            if op in ("LT", "LTE", "EQ"):
                high = value if high is None else min(high, value)
            if op == "BETWEEN":
                top = _when(str(prop), flt.get("highValue", ""))
                high = top if high is None else min(high, top)
        lows.append(low)
        highs.append(high)
    lo = None if None in lows else min(x for x in lows if x is not None)
    hi = None if None in highs else max(x for x in highs if x is not None)
    return lo, hi


def _sort_key(sorts: list[Any]) -> list[tuple[str, bool]]:
    out: list[tuple[str, bool]] = []
    for item in sorts:
        if isinstance(item, str):
            out.append((item.lstrip("-"), item.startswith("-")))
        else:
            out.append((str(item.get("propertyName")), item.get("direction") == "DESCENDING"))
    return out


class Searcher:
    """Matches are computed once per (query, sandbox time) and cached, so paging is cheap."""

    def __init__(self) -> None:
        self._cache: OrderedDict[str, list[int]] = OrderedDict()
        self._lock = threading.Lock()

    def matches(
        self, world: World, shop: ShopProfile, kind: str, body: dict[str, Any]
    ) -> list[int]:
        groups, _, _ = validate(body)
        sorts = _sort_key(list(body.get("sorts") or []))
        query = str(body.get("query") or "").lower()
        now = world.now()
        key = json.dumps(
            [world.seed, shop.shop_id, kind, now.isoformat(), groups, sorts, query],
            sort_keys=True,
            default=str,
        )
        with self._lock:
            if key in self._cache:
                self._cache.move_to_end(key)
                return self._cache[key]
        found = self._scan(world, shop, kind, groups, sorts, query)
        with self._lock:
            self._cache[key] = found
            while len(self._cache) > 16:
                self._cache.popitem(last=False)
        return found

    def _scan(
        self,
        world: World,
        shop: ShopProfile,
        kind: str,
        groups: list[dict[str, Any]],
        sorts: list[tuple[str, bool]],
        query: str,
    ) -> list[int]:
        vol = volume(world, shop, kind)
        now = world.now()
        low, high = _created_window(kind, groups)
        first = vol.count_by(low - timedelta(milliseconds=1)) if low else 0
        if low:  # a bulk edit at or after `low` re-stamps records of any age
            edits = bulk_edits(world.seed, shop, kind, start_of(world, shop))
            first = min([first, *(start for at, start, _ in edits if low <= at <= now)])
        last = vol.count_by(min(high, now) if high else now)
        hits: list[tuple[list[tuple[bool, Value]], int]] = []
        for index in range(first, last):
            life = plan(world, shop, kind, index)
            st = indexed_state(life, now, shop.hubspot_search_lag_seconds)
            if st is None or st.archived or not _matches(st, groups, query):
                continue
            keys = [
                (not st.props.get(p), typed(p, st.props[p]) if st.props.get(p) else "")
                for p, _ in sorts
            ]
            hits.append((keys, index))
        for position in reversed(range(len(sorts))):
            descending = sorts[position][1]
            hits.sort(key=lambda h, i=position: h[0][i], reverse=descending)  # type: ignore[misc]
        return [index for _, index in hits]


def _matches(st: State, groups: list[dict[str, Any]], query: str) -> bool:
    if query and not any(query in v.lower() for v in st.props.values()):
        return False
    if not groups:
        return True
    return any(all(_check(f, st.props) for f in g.get("filters") or []) for g in groups)
