"""Named SQL queries kept in `.sql` files (procrastinate's pattern).

A file holds blocks introduced by `-- name: some_query`; `queries("app_dashboard")` returns every
block from `schemas/app_dashboard/queries/*.sql` by name. Callers say `q["claim_jobs"]`.
"""

from __future__ import annotations

import re
from functools import cache
from pathlib import Path
from typing import LiteralString, cast

SCHEMAS_DIR = Path(__file__).resolve().parent.parent / "schemas"
_NAME = re.compile(r"^--\s*name:\s*(\w+)\s*$", re.MULTILINE)


def parse(text: str, *, source: str = "<sql>") -> dict[str, LiteralString]:
    """Split a file's text into {name: statement}; a duplicated name is an error."""
    parts = _NAME.split(text)
    found: dict[str, LiteralString] = {}
    for name, body in zip(parts[1::2], parts[2::2], strict=True):
        if name in found:
            raise ValueError(f"{source}: query {name!r} is defined twice")
        found[name] = cast(LiteralString, body.strip().rstrip(";").strip())
    return found


@cache
def queries(schema: str) -> dict[str, LiteralString]:
    """Every named query of one schema directory, loaded once per process."""
    found: dict[str, LiteralString] = {}
    for path in sorted((SCHEMAS_DIR / schema / "queries").glob("*.sql")):
        for name, body in parse(path.read_text(), source=str(path)).items():
            if name in found:
                raise ValueError(f"{path}: query {name!r} is already defined in {schema}")
            found[name] = body
    return found
