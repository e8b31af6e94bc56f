"""What each mirrored table looks like in BigQuery, derived from the Postgres catalog.

A table is mirrored when its `mirror_version` trigger stamps its rows (revision 0018); its
columns and primary key come from the catalog, so a column added by a later revision reaches
BigQuery on the next export (added, nullable: BigQuery columns are never dropped or retyped).
`raw` source payloads stay in Postgres. Only the layout is declared here: the immutable business
date each table is partitioned by, and for order children (which carry no date) the parent
order's creation time, joined in as `order_created_at`.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

import asyncpg
import pyarrow as pa
from google.cloud import bigquery

from storeline.export.bigquery.sql import queries

# Postgres columns never mirrored: the source payload (large, and kept in Postgres).
SKIPPED_COLUMNS = frozenset({"raw"})


@dataclass(frozen=True)
class Parent:
    """A date borrowed from the parent row: `{alias}` = parent.{date_column} joined on
    parent.id = this.{foreign_key} (same shop)."""

    table: str
    foreign_key: str
    date_column: str
    alias: str


_ORDER = Parent("core_warehouse.orders", "order_id", "created_at", "order_created_at")

# The immutable business date per table (None: small, not partitioned). Never updated_at: a
# partition column that changes would move rows between partitions on every update.
PARTITIONS: dict[str, str | None] = {
    "orders": "created_at",
    "order_line_items": "order_created_at",
    "order_shipping_lines": "order_created_at",
    "transactions": "order_created_at",
    "refunds": "created_at",
    "refund_line_items": "order_created_at",
    "refund_shipping_lines": "order_created_at",
    "customers": "created_at",
    "fact_marketing_daily": "day",
    "fact_marketing_campaign_daily": "day",
    "fact_web_traffic_daily": "day",
    "fact_web_traffic_day_totals": "day",
    "crm_deals": "created_at",
    "crm_contacts": "created_at",
    "crm_companies": "created_at",
    "crm_pipeline_stages": None,
    "order_sales": "sale_date",
    "order_returns": "order_created_at",
    "fact_web_traffic_range_totals": "first_day",
    "shop_daily_kpis": "day",
    "shopify_reported_daily": "day",
    "campaign_daily": "day",
}
PARENTS: dict[str, Parent] = dict.fromkeys(
    (
        "order_line_items",
        "order_shipping_lines",
        "transactions",
        "refund_line_items",
        "refund_shipping_lines",
        "order_returns",
    ),
    _ORDER,
)


@dataclass(frozen=True)
class Column:
    name: str
    pg_type: str  # format_type() of the column
    bq_type: str
    repeated: bool = False

    def select(self, alias: str = "t") -> str:
        """The expression that reads this column in the shape its BigQuery type loads from."""
        ref = f'{alias}."{self.name}"'
        if self.bq_type == "NUMERIC":
            return f'round({ref}, 9) AS "{self.name}"'  # BigQuery NUMERIC keeps 9 decimals
        if self.repeated:
            return f"coalesce({ref}, '{{}}') AS \"{self.name}\""  # REPEATED is never NULL
        if self.bq_type == "STRING" and self.pg_type != "text":
            return f'{ref}::text AS "{self.name}"'
        return ref

    def schema_field(self) -> bigquery.SchemaField:
        return bigquery.SchemaField(
            self.name, self.bq_type, mode="REPEATED" if self.repeated else "NULLABLE"
        )

    def arrow_type(self) -> pa.DataType:
        scalar = _ARROW[self.bq_type]
        return pa.list_(scalar) if self.repeated else scalar


_ARROW: dict[str, pa.DataType] = {
    "STRING": pa.string(),
    "INT64": pa.int64(),
    "FLOAT64": pa.float64(),
    "NUMERIC": pa.decimal128(38, 9),
    "BOOL": pa.bool_(),
    "TIMESTAMP": pa.timestamp("us", tz="UTC"),
    "DATE": pa.date32(),
}
_SCALARS = {
    "text": "STRING",
    "bigint": "INT64",
    "integer": "INT64",
    "smallint": "INT64",
    "boolean": "BOOL",
    "numeric": "NUMERIC",
    "double precision": "FLOAT64",
    "real": "FLOAT64",
    "timestamp with time zone": "TIMESTAMP",
    "date": "DATE",
}


def column(name: str, pg_type: str) -> Column:
    """A Postgres column's BigQuery shape; jsonb and anything unlisted travel as STRING text."""
    base = re.sub(r"\(.*\)", "", pg_type).strip()
    repeated = base.endswith("[]")
    base = base.removesuffix("[]")
    if base.startswith("character varying") or base.startswith("character"):
        base = "text"
    bq_type = _SCALARS.get(base, "STRING")
    if repeated and bq_type not in ("STRING", "INT64"):
        return Column(name, pg_type, "STRING")  # other arrays as their text form
    return Column(name, pg_type, bq_type, repeated)


@dataclass(frozen=True)
class MirrorTable:
    schema: str
    name: str
    columns: tuple[Column, ...]  # mirrored columns, catalog order, then the parent's date
    key: tuple[str, ...]  # primary key, shop_id first
    partition: str | None
    parent: Parent | None = None
    extra: tuple[Column, ...] = field(default=())  # derived columns (the parent's date)

    @property
    def source(self) -> str:
        return f'{self.schema}."{self.name}"'

    @property
    def all_columns(self) -> tuple[Column, ...]:
        return self.columns + self.extra

    @property
    def clustering(self) -> list[str]:
        """The key after shop_id (one shop per dataset), at most BigQuery's four columns."""
        return [k for k in self.key if k != "shop_id"][:4]

    def bq_schema(self) -> list[bigquery.SchemaField]:
        return [c.schema_field() for c in self.all_columns]

    def staging_schema(self) -> list[bigquery.SchemaField]:
        return [*self.bq_schema(), bigquery.SchemaField("_deleted", "BOOL")]

    def arrow_schema(self) -> pa.Schema:
        return pa.schema(
            [(c.name, c.arrow_type()) for c in self.all_columns] + [("_deleted", pa.bool_())]
        )

    def changes_query(self) -> str:
        """Rows of one shop written since a version: $1 shop, $2 version."""
        select = [c.select() for c in self.columns]
        join = ""
        if self.parent is not None:
            p = self.parent
            select.append(f'p."{p.date_column}" AS "{p.alias}"')
            join = (
                f'LEFT JOIN {p.table} AS p ON p.shop_id = t.shop_id AND p.id = t."{p.foreign_key}"'
            )
        return (
            f"SELECT {', '.join(select)} FROM {self.source} AS t {join} "
            "WHERE t.shop_id = $1 AND t.mirror_version > $2"
        )

    def deletions_query(self) -> str:
        """Keys deleted since a version and not present again: $1 shop, $2 version, $3 table.
        One row per key (the newest deletion), key columns typed as in the table."""
        types = {c.name: c.pg_type for c in self.columns}
        rest = [k for k in self.key if k != "shop_id"]
        typed = [f"(d.key ->> {i})::{types[k]}" for i, k in enumerate(rest)]
        keys = ", ".join(f'{expr} AS "{k}"' for expr, k in zip(typed, rest, strict=True))
        present = " AND ".join(f't."{k}" = {expr}' for k, expr in zip(rest, typed, strict=True))
        return (
            f"SELECT DISTINCT ON (d.key) {keys}, d.mirror_version "
            "FROM core_warehouse.mirror_tombstones AS d "
            "WHERE d.shop_id = $1 AND d.table_name = $3 AND d.mirror_version > $2 "
            f"AND NOT EXISTS (SELECT FROM {self.source} AS t "
            f"WHERE t.shop_id = d.shop_id AND {present}) "
            "ORDER BY d.key, d.mirror_version DESC"
        )


def build(rows: Iterable[Any]) -> dict[str, MirrorTable]:
    """MirrorTables from `mirror_catalog` rows, by table name."""
    grouped: dict[tuple[str, str], list[Mapping[str, Any]]] = {}
    for row in rows:
        grouped.setdefault((str(row["schema_name"]), str(row["table_name"])), []).append(row)
    found: dict[str, MirrorTable] = {}
    for (schema, name), cols in grouped.items():
        key = tuple(
            str(r["column_name"])
            for r in sorted(cols, key=lambda r: int(str(r["key_position"])))
            if int(str(r["key_position"])) > 0
        )
        parent = PARENTS.get(name)
        found[name] = MirrorTable(
            schema=schema,
            name=name,
            columns=tuple(
                column(str(r["column_name"]), str(r["column_type"]))
                for r in cols
                if r["column_name"] not in SKIPPED_COLUMNS
            ),
            key=key,
            partition=PARTITIONS.get(name),
            parent=parent,
            extra=(Column(parent.alias, "timestamp with time zone", "TIMESTAMP"),)
            if parent
            else (),
        )
    return found


async def load(conn: asyncpg.Connection) -> dict[str, MirrorTable]:
    return build(await conn.fetch(queries()["mirror_catalog"]))


SHOPS = MirrorTable(
    schema="app_dashboard",
    name="shops",
    columns=(
        Column("id", "text", "STRING"),
        Column("name", "text", "STRING"),
        Column("currency", "text", "STRING"),
        Column("timezone", "text", "STRING"),
    ),
    key=("id",),
    partition=None,
)
