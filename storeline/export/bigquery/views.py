"""The reporting views in BigQuery: Postgres' own definitions (pg_get_viewdef), transpiled by
sqlglot, with every table pointed at the shop's dataset.

sqlglot does the dialect work (casts, DISTINCT ON → ROW_NUMBER). Three rewrites are ours:
aggregate FILTER clauses, which BigQuery lacks, become IF() inside the aggregate; a shop-local
day, `(ts AT TIME ZONE tz)::date`, becomes BigQuery's own `DATE(ts, tz)`; and `schema.table`
becomes `project.dataset.table`. A view reading anything that is
not mirrored (reporting.sync_status reads the job tables) is left out, and said so.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from typing import Any

import sqlglot
from sqlglot import exp


@dataclass(frozen=True)
class BigQueryView:
    name: str
    query: str | None  # None: not mirrored
    reason: str | None = None


def _filter_to_if(node: exp.Expression) -> exp.Expression:
    """AGG(x) FILTER (WHERE c) → AGG(IF(c, x, NULL)); COUNT(*) FILTER → COUNTIF(c)."""
    if not isinstance(node, exp.Filter):
        return node
    agg = node.this
    where = node.expression
    cond = where.this if isinstance(where, exp.Where) else where
    if not isinstance(agg, exp.AggFunc):
        return node
    arg = agg.this
    if arg is None or isinstance(arg, exp.Star):
        return exp.CountIf(this=cond.copy())
    rewritten: Any = agg.copy()  # an AggFunc (sqlglot types it apart from Expression)
    rewritten.set("this", exp.If(this=cond.copy(), true=arg.copy(), false=exp.null()))
    return rewritten  # type: ignore[no-any-return]


def _local_date(node: exp.Expression) -> exp.Expression:
    """(timestamptz AT TIME ZONE tz)::date → DATE(ts, tz): the same day, said as BigQuery does."""
    if not isinstance(node, exp.Cast) or not node.to.is_type(exp.DataType.Type.DATE):
        return node
    inner = node.this
    while isinstance(inner, exp.Paren):
        inner = inner.this
    if not isinstance(inner, exp.AtTimeZone):
        return node
    return exp.Date(this=inner.this.copy(), zone=inner.args["zone"].copy())


def transpile(
    name: str, definition: str, *, project: str, dataset: str, tables: Collection[str]
) -> BigQueryView:
    """One Postgres view definition as BigQuery SQL reading `project.dataset.<table>`;
    `tables` are the names mirrored into that dataset."""
    tree = sqlglot.parse_one(definition, read="postgres")
    ctes = {cte.alias_or_name for cte in tree.find_all(exp.CTE)}
    for table in tree.find_all(exp.Table):
        if not table.db and table.name in ctes:
            continue
        if table.name not in tables:
            return BigQueryView(name, None, f"reads {table.db}.{table.name}, which is not mirrored")
        table.set("catalog", exp.to_identifier(project, quoted=True))
        table.set("db", exp.to_identifier(dataset, quoted=True))
        table.set("this", exp.to_identifier(table.name, quoted=True))
    tree = tree.transform(_filter_to_if).transform(_local_date)
    return BigQueryView(name, tree.sql(dialect="bigquery", pretty=True))
