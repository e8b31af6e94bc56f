"""The GraphQL documents the connector sends, read from `graphql/*.graphql` (or built from them,
see derive.py) once per process."""

from __future__ import annotations

from datetime import UTC, datetime
from functools import cache
from importlib.resources import files

from storeline.platforms.shopify import derive

QUERIES = files(__package__) / "graphql"  # package data: an installed wheel ships them

# Lists the app's running query operations, to adopt one this job already started (a crash
# between submitting and persisting its id) instead of waiting for it to finish.
RUNNING_BULK_OPERATIONS = """
query RunningBulkOperations {
  bulkOperations(first: 10, query: "status:RUNNING", sortKey: CREATED_AT, reverse: true) {
    edges { node { id status createdAt query } }
  }
}
"""


@cache
def document(name: str) -> str:
    """The text of `graphql/<name>.graphql`, comments included (GraphQL ignores them), or for a
    derived document the text built from its shell and sources."""
    if name == "orders_page":
        return derive.orders_page(_file(name), _file("bulk_orders"), _file("refund_details"))
    if name == "refund_children":
        return derive.refund_children(_file(name), _file("refund_details"))
    if name == "order_agreement_rest":
        return derive.refund_children(_file(name), _file("order_agreements"))
    return _file(name)


def _file(name: str) -> str:
    return (QUERIES / f"{name}.graphql").read_text(encoding="utf-8")


def bulk_query(name: str, search: str) -> str:
    """A bulk query with its `__FILTER__` replaced by a Shopify search string (bulk queries take
    no variables); the search goes inside a GraphQL string literal, so it is escaped."""
    escaped = search.replace("\\", "\\\\").replace('"', '\\"')
    text = document(name)
    if "__FILTER__" not in text:
        raise ValueError(f"{name}.graphql has no __FILTER__ placeholder")
    # Comment lines mention the placeholder too; only the one inside the query must change, but
    # replacing every occurrence is harmless because comments are ignored.
    return "\n".join(line for line in text.replace("__FILTER__", escaped).splitlines()
                     if not line.lstrip().startswith("#"))  # fmt: skip


def updated_since(moment: datetime | None) -> str:
    """The search string for `updated_at >= moment` ("" = everything)."""
    if moment is None:
        return ""
    return f"updated_at:>='{iso(moment)}'"


def iso(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def parse_time(value: str) -> datetime:
    """Shopify DateTime (ISO 8601, `Z` or offset) → aware datetime."""
    return datetime.fromisoformat(value.replace("Z", "+00:00"))
