"""HubSpot's SQL, read as package data: DDL per schema (`<schema>/NN_*.sql` or `NN_*.sql`, applied
by the revisions in storeline/migrations/versions) and named queries (`queries/*.sql`)."""

from __future__ import annotations

from typing import LiteralString

from storeline.core.sql import package_queries


def queries() -> dict[str, LiteralString]:
    """Every named query of the HubSpot connector, by name (loaded once per process)."""
    return package_queries(__name__)
