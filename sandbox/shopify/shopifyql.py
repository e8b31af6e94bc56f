"""`shopifyqlQuery(query:)`: Shopify's own daily sales figures, answered from the oracle.

The subset the product sends: `FROM sales SHOW <metrics> TIMESERIES day SINCE <d> UNTIL <d>`
(dates as YYYY-MM-DD, `today`, `yesterday` or `-Nd`). The answer has the 2026-01 shape:
`tableData { columns { name dataType displayName } rows }` with rows as objects keyed by column
name and every value a string, one row per day of the range (days without sales are zeros), and
`parseErrors: []`; anything outside the subset gets `tableData: null` and a parse error. The
field needs the `read_reports` scope: without it Shopify answers ACCESS_DENIED (`scopes`
below). A `report_drift` fault adds `params["amount"]` (default 1.00) to every money value of
one day (`params["day"]`, default the range's first day) so a reconciliation can see drift.
Sources: https://shopify.dev/docs/api/admin-graphql/latest/queries/shopifyqlQuery ,
https://shopify.dev/docs/api/shopifyql/latest/schemas/sales_revenue/sales
"""

from __future__ import annotations

import re
import threading
import weakref
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from graphql import GraphQLError

from sandbox.faults import FaultKind
from sandbox.shopify import oracle, profile
from sandbox.shopify.days import local_day
from sandbox.world import ShopProfile, World

# metric → (oracle field, dataType, displayName)
METRICS: dict[str, tuple[str, str, str]] = {
    "orders": ("orders", "INTEGER", "Orders"),
    "gross_sales": ("gross_sales", "MONEY", "Gross sales"),
    "discounts": ("discounts", "MONEY", "Discounts"),
    "returns": ("returns", "MONEY", "Returns"),
    "net_sales": ("net_sales", "MONEY", "Net sales"),
    "shipping_charges": ("shipping", "MONEY", "Shipping charges"),
    "duties": ("duties", "MONEY", "Duties"),
    "additional_fees": ("additional_fees", "MONEY", "Additional fees"),
    "return_fees": ("return_fees", "MONEY", "Return fees"),
    "taxes": ("taxes", "MONEY", "Taxes"),
    "total_sales": ("total_sales", "MONEY", "Total sales"),
}
# Shopify shows discounts and returns as negative amounts in its reports.
_NEGATIVE = ("discounts", "returns")
_QUERY = re.compile(
    r"^\s*FROM\s+(?P<table>\w+)\s+SHOW\s+(?P<show>[\w\s,]+?)\s+TIMESERIES\s+(?P<grain>\w+)"
    r"\s+SINCE\s+(?P<since>\S+)\s+UNTIL\s+(?P<until>\S+)\s*$",
    re.IGNORECASE,
)
_RELATIVE = re.compile(r"^-(\d+)d$")
REPORTS_SCOPE = "read_reports"

_lock = threading.Lock()
_revoked: dict[int, set[str]] = {}  # id(world) → shops whose token lacks read_reports


def revoke_reports_scope(world: World, shop_id: str) -> None:
    """The merchant installed the app without `read_reports` (every other scope still granted)."""
    with _lock:
        if id(world) not in _revoked:
            weakref.finalize(world, _revoked.pop, id(world), None)
        _revoked.setdefault(id(world), set()).add(shop_id)


def has_reports_scope(world: World, shop_id: str) -> bool:
    with _lock:
        return shop_id not in _revoked.get(id(world), set())


def access_denied() -> GraphQLError:
    """The error Shopify gives a field the token's scopes do not cover (data: null there)."""
    return GraphQLError(
        f"Access denied for shopifyqlQuery field. Required access: `{REPORTS_SCOPE}` access scope.",
        extensions={
            "code": "ACCESS_DENIED",
            "documentation": "https://shopify.dev/api/usage/access-scopes",
            "requiredAccess": f"`{REPORTS_SCOPE}` access scope.",
        },
    )


def _day(text: str, today: date) -> date | None:
    lowered = text.lower()
    if lowered == "today":
        return today
    if lowered == "yesterday":
        return today - timedelta(days=1)
    relative = _RELATIVE.match(lowered)
    if relative:
        return today - timedelta(days=int(relative.group(1)))
    try:
        return date.fromisoformat(text)
    except ValueError:
        return None


def answer(world: World, shop: ShopProfile, query: str) -> dict[str, Any]:
    """The ShopifyqlQueryResponse for one query (tableData or parseErrors)."""
    match = _QUERY.match(query)
    if match is None:
        return _error("Syntax Error: the sandbox answers only FROM sales SHOW … TIMESERIES day "
                      "SINCE … UNTIL …")  # fmt: skip
    if match["table"].lower() != "sales":
        return _error(f"Table Not Found: Table '{match['table']}' not found")
    if match["grain"].lower() != "day":
        return _error(f"Invalid Value: TIMESERIES '{match['grain']}' is not supported here")
    metrics = [m.strip().lower() for m in match["show"].split(",") if m.strip()]
    for name in metrics:
        if name not in METRICS:
            return _error(f"Column Not Found: Column '{name}' not found")
    today = local_day(world.now(), profile.timezone(world, shop))
    since, until = _day(match["since"], today), _day(match["until"], today)
    if since is None or until is None or since > until:
        return _error(f"Invalid Value: SINCE {match['since']} UNTIL {match['until']}")
    rows = oracle.daily(world, shop, since, min(until, today))
    drift = world.faults.take("shopify", shop.shop_id, FaultKind.REPORT_DRIFT)
    drift_day = str(drift.params.get("day", since.isoformat())) if drift else None
    drift_amount = Decimal(str(drift.params.get("amount", "1.00"))) if drift else Decimal(0)
    out = []
    for row in rows:
        cells: dict[str, Any] = {"day": row["date"]}
        for name in metrics:
            field, data_type, _ = METRICS[name]
            if data_type == "INTEGER":
                cells[name] = str(row[field])
                continue
            value = Decimal(row[field])
            value = -value if name in _NEGATIVE else value
            if row["date"] == drift_day:
                value += drift_amount
            cells[name] = str(value)
        out.append(cells)
    columns = [{"name": "day", "dataType": "DAY_TIMESTAMP", "displayName": "Day"}]
    columns += [
        {"name": n, "dataType": METRICS[n][1], "displayName": METRICS[n][2]} for n in metrics
    ]
    return {
        "__typename": "ShopifyqlQueryResponse",
        "parseErrors": [],
        "tableData": {"__typename": "ShopifyqlTableData", "columns": columns, "rows": out},
    }


def _error(message: str) -> dict[str, Any]:
    return {"__typename": "ShopifyqlQueryResponse", "parseErrors": [message], "tableData": None}
