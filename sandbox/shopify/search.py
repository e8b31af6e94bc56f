"""The subset of Shopify's search syntax the connector sends in `query:` arguments.

Terms are `field:value`, `field:>=value` (also >, <, <=), optionally quoted, joined by spaces or
AND; `OR` between two terms makes them alternatives; `-field:value` / `NOT field:value` negate.
Date values without a time are midnight in the shop's timezone, as in the admin. Unknown fields
are ignored with a warning, which is what Shopify does (it reports them in `extensions.search`).
"""

from __future__ import annotations

import re
import shlex
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, time
from typing import Any
from zoneinfo import ZoneInfo

_TERM = re.compile(r"^(?P<neg>-?)(?P<field>[a-z_]+):(?P<op>>=|<=|>|<|=)?(?P<value>.+)$")


@dataclass(frozen=True)
class Term:
    field: str
    op: str  # "=", ">", ">=", "<", "<="
    value: str
    negate: bool = False


@dataclass
class Search:
    """A conjunction of groups; each group is a disjunction of terms."""

    groups: list[list[Term]] = field(default_factory=list)
    warnings: list[dict[str, str]] = field(default_factory=list)

    def lower_bound(self, name: str, tz: ZoneInfo) -> datetime | None:
        """The tightest `name:>=`/`name:>` bound that every match must satisfy (for index use)."""
        best: datetime | None = None
        for group in self.groups:
            if len(group) != 1 or group[0].negate or group[0].field != name:
                continue
            if group[0].op in (">", ">="):
                bound = parse_time(group[0].value, tz)
                if bound is not None and (best is None or bound > best):
                    best = bound
        return best

    def matches(self, values: Mapping[str, Callable[[], Any]], tz: ZoneInfo) -> bool:
        return all(any(_term_matches(t, values, tz) for t in group) for group in self.groups)


def parse(text: str | None, known: set[str]) -> Search:
    search = Search()
    if not text or not text.strip():
        return search
    try:
        tokens = shlex.split(text.replace("'", '"'))
    except ValueError:
        tokens = text.split()
    pending_or = False
    negate_next = False
    for token in tokens:
        upper = token.upper()
        if upper == "AND":
            continue
        if upper == "OR":
            pending_or = True
            continue
        if upper == "NOT":
            negate_next = True
            continue
        match = _TERM.match(token)
        if match is None:
            search.warnings.append(
                {"field": "default", "message": "Free-text search is not supported."}
            )
            continue
        name = match["field"]
        if name not in known:
            search.warnings.append(
                {"field": name, "message": "Invalid search field for this query."}
            )
            pending_or = negate_next = False
            continue
        term = Term(
            name, match["op"] or "=", match["value"].strip("\"'"), bool(match["neg"]) or negate_next
        )
        if pending_or and search.groups:
            search.groups[-1].append(term)
        else:
            search.groups.append([term])
        pending_or = negate_next = False
    return search


def parse_time(value: str, tz: ZoneInfo) -> datetime | None:
    try:
        if len(value) == 10:
            return datetime.combine(date.fromisoformat(value), time(0), tz)
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=tz)


def _term_matches(term: Term, values: Mapping[str, Callable[[], Any]], tz: ZoneInfo) -> bool:
    actual = values[term.field]()
    if isinstance(actual, datetime):
        wanted: Any = parse_time(term.value, tz)
        if wanted is None:
            return True
    elif isinstance(actual, int) and not isinstance(actual, bool):
        try:
            wanted = int(term.value)
        except ValueError:
            return False
    elif isinstance(actual, bool):
        wanted = term.value.lower() == "true"
    else:
        actual = None if actual is None else str(actual).lower()
        wanted = term.value.lower()
    result = _compare(actual, term.op, wanted)
    return not result if term.negate else result


def _compare(actual: Any, op: str, wanted: Any) -> bool:
    if actual is None:
        return False
    if op == "=":
        return bool(actual == wanted)
    if op == ">":
        return bool(actual > wanted)
    if op == ">=":
        return bool(actual >= wanted)
    if op == "<":
        return bool(actual < wanted)
    return bool(actual <= wanted)
