"""The reporting views in BigQuery: Postgres' own definitions (pg_get_viewdef), transpiled by
sqlglot, with every table pointed at the shop's dataset.

sqlglot does the dialect work (casts, DISTINCT ON → ROW_NUMBER). Four rewrites are ours: a
call of a SQL-language helper (`storeline_private.hubspot_shop_amount(…)`, one rule kept in one
place in Postgres) is replaced by its body with the arguments put in, so BigQuery computes the
same rule without a function of its own;
aggregate FILTER clauses, which BigQuery lacks, become IF() inside the aggregate; a shop-local
day, `(ts AT TIME ZONE tz)::date`, becomes BigQuery's own `DATE(ts, tz)`; and `schema.table`
becomes `project.dataset.table`. A view reading anything that is
not mirrored (reporting.sync_status reads the job tables) is left out, and said so.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass
from typing import Any

import sqlglot
from sqlglot import exp


@dataclass(frozen=True)
class BigQueryView:
    name: str
    query: str | None  # None: not mirrored
    reason: str | None = None


@dataclass(frozen=True)
class SqlFunction:
    """A SQL-language function: its argument names and its `SELECT <expression>` body."""

    args: list[str]
    body: str


class NotInlinable(ValueError):
    """A view calls a helper whose body is not one expression (or is unknown)."""


def _inliner(functions: Mapping[str, SqlFunction]) -> Any:
    def inline(node: exp.Expression) -> exp.Expression:
        if not (
            isinstance(node, exp.Dot)
            and isinstance(node.this, exp.Identifier)
            and node.this.name == "storeline_private"
            and isinstance(node.expression, exp.Anonymous)
        ):
            return node
        call = node.expression
        fn = functions.get(call.name)
        body = sqlglot.parse_one(fn.body, read="postgres") if fn else None
        if fn is None or not isinstance(body, exp.Select) or len(body.expressions) != 1:
            raise NotInlinable(f"calls storeline_private.{call.name}, which cannot be inlined")
        values = dict(zip(fn.args, call.expressions, strict=False))

        def put(arg: exp.Expression) -> exp.Expression:
            if isinstance(arg, exp.Column) and not arg.table and arg.name in values:
                return exp.Paren(this=values[arg.name].copy())
            return arg

        return exp.Paren(this=body.expressions[0].copy().transform(put))

    return inline


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
    name: str,
    definition: str,
    *,
    project: str,
    dataset: str,
    tables: Collection[str],
    functions: Mapping[str, SqlFunction] | None = None,
) -> BigQueryView:
    """One Postgres view definition as BigQuery SQL reading `project.dataset.<table>`;
    `tables` are the names mirrored into that dataset, `functions` the helpers to inline."""
    tree = sqlglot.parse_one(definition, read="postgres")
    try:
        tree = tree.transform(_inliner(functions or {}))
    except NotInlinable as error:
        return BigQueryView(name, None, str(error))
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
