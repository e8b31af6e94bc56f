"""Named SQL queries kept in `.sql` files (procrastinate's pattern), read as package data.

A file holds blocks introduced by `-- name: some_query`; `queries("app_dashboard")` returns every
block from `storeline/core/sql/app_dashboard/queries/*.sql` by name. Callers say
`q["claim_jobs"]`. Files are read with `importlib.resources`, so an installed wheel finds them
exactly as a checkout does.
"""

from __future__ import annotations

import re
from functools import cache
from importlib.resources import files
from importlib.resources.abc import Traversable
from typing import LiteralString, cast

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


def resource(package: str, *parts: str) -> Traversable:
    """A file or folder shipped inside `package` (e.g. `resource("storeline", "core", "sql")`)."""
    found = files(package)
    for part in parts:
        found = found / part
    return found


def sql_files(folder: Traversable) -> list[Traversable]:
    """The `.sql` files of one folder, in name order (numbered files run in that order)."""
    if not folder.is_dir():
        return []
    return sorted((f for f in folder.iterdir() if f.name.endswith(".sql")), key=lambda f: f.name)


def load_folder(folder: Traversable, *, label: str) -> dict[str, LiteralString]:
    """Every named query of every `.sql` file in `folder`; a name defined twice is an error."""
    found: dict[str, LiteralString] = {}
    for path in sql_files(folder):
        source = f"{label}/{path.name}"
        for name, body in parse(path.read_text(encoding="utf-8"), source=source).items():
            if name in found:
                raise ValueError(f"{source}: query {name!r} is already defined in {label}")
            found[name] = body
    return found


@cache
def queries(schema: str) -> dict[str, LiteralString]:
    """Every named query of one kernel schema folder, loaded once per process."""
    return load_folder(resource(__name__, schema, "queries"), label=f"{schema}/queries")


@cache
def package_queries(package: str) -> dict[str, LiteralString]:
    """Every named query of a platform's `sql/queries/*.sql` (`package` is its `sql` package,
    e.g. "storeline.platforms.shopify.sql"), loaded once per process."""
    return load_folder(resource(package, "queries"), label=f"{package}/queries")
