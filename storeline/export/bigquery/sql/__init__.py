"""The mirror's SQL, read as package data: the revision's DDL (`NN_*.sql`), its Postgres queries
(`queries/*.sql`) and the BigQuery statement templates (`bigquery/*.sql`)."""

from __future__ import annotations

from functools import cache
from typing import LiteralString

from storeline.core.sql import load_folder, package_queries, resource


def queries() -> dict[str, LiteralString]:
    """The mirror's Postgres queries, by name (loaded once per process)."""
    return package_queries(__name__)


@cache
def bigquery_templates() -> dict[str, LiteralString]:
    """BigQuery statements with `{placeholders}` for identifiers the mirror fills in."""
    return load_folder(resource(__name__, "bigquery"), label=f"{__name__}/bigquery")
