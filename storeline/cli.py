"""The `storeline` command. Every failure prints one line (`storeline: …`) and exits non-zero.

Subcommands that belong to one side (worker, demo) import it lazily, so the kernel itself never
depends on api/ or worker/ at import time.
"""

from __future__ import annotations

import argparse
import asyncio
import importlib.util
import os
import signal
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from types import FrameType
from typing import NoReturn

from storeline.core import dsn as dsns
from storeline.core.errors import ConfigError, InputError, StorelineError

Handler = Callable[[argparse.Namespace], int]


def _db_upgrade(args: argparse.Namespace) -> int:
    from storeline.core import migrate

    target = dsns.resolve()
    migrate.upgrade(target)
    print(f"database {dsns.redact(target)} is at the latest revision")
    return 0


def _db_reset(args: argparse.Namespace) -> int:
    from storeline.core import migrate

    target = dsns.resolve()
    if not dsns.is_local(target) and not args.yes:
        raise InputError(
            f"refusing to reset non-local database {dsns.redact(target)} without --yes"
        )
    migrate.reset(target)
    print(f"dropped and rebuilt every Storeline schema in {dsns.redact(target)}")
    return 0


def _db_stop(args: argparse.Namespace) -> int:
    from storeline.core import embedded
    from storeline.core.settings import database_settings

    if database_settings().database_url is not None:
        raise InputError("DATABASE_URL is set; `db stop` stops only the embedded Postgres")
    data_dir = dsns.embedded_data_dir()
    if embedded.stop(data_dir):
        print(f"stopped the embedded Postgres in {data_dir}")
    else:
        print(f"no embedded Postgres is running in {data_dir}")
    return 0


def _seed(args: argparse.Namespace) -> int:
    from storeline.core import db, seed

    parsed = seed.read(Path(args.file))

    async def run() -> dict[str, int]:
        conn = await db.connect(dsns.resolve())
        try:
            return await seed.apply(conn, parsed)
        finally:
            await conn.close()

    counts = asyncio.run(run())
    print("seeded " + ", ".join(f"{n} {k}" for k, n in counts.items()))
    return 0


def _keys_generate(args: argparse.Namespace) -> int:
    from storeline.core.crypto import generate_key

    print(generate_key(args.key_id))
    return 0


def _export_bigquery(args: argparse.Namespace) -> int:
    """Enqueue a BIGQUERY export job per shop (the worker runs it; docs/bigquery.md)."""
    from storeline.core import db
    from storeline.core.enums import JobType, Platform
    from storeline.core.sql import queries

    q = queries("app_dashboard")

    async def run() -> list[tuple[str, int | None]]:
        conn = await db.connect(dsns.resolve())
        try:
            shops = [r["id"] for r in await conn.fetch(q["export_shops"], args.shop)]
            if args.shop is not None and not shops:
                raise InputError(f"no shop {args.shop!r}")
            return [
                (
                    shop,
                    await conn.fetchval(
                        q["enqueue_job"], shop, Platform.BIGQUERY, JobType.INCREMENTAL, 50, None
                    ),
                )
                for shop in shops
            ]
        finally:
            await conn.close()

    for shop, job_id in asyncio.run(run()):
        state = f"job {job_id} queued" if job_id is not None else "already queued"
        print(f"{shop}: BigQuery export {state}")
    return 0


def _token(args: argparse.Namespace) -> int:
    from storeline.api.devtoken import mint

    print(asyncio.run(mint(args.user, args.ttl)))
    return 0


def _worker(args: argparse.Namespace) -> int:
    from storeline.worker.main import main as worker_main

    return worker_main(args.rest)


def _api(args: argparse.Namespace) -> int:
    from storeline.api.main import main as api_main

    return api_main(args.rest)


def _sandbox(args: argparse.Namespace) -> int:
    # The product never imports the sandbox; it runs it as its own program.
    _exec_dev_tool("sandbox", args.rest)


def _demo(args: argparse.Namespace) -> int:
    # The demo drives the product from outside (CLI, database, HTTP) and may start the sandbox.
    _exec_dev_tool("demo", args.rest)


def _exec_dev_tool(name: str, rest: Sequence[str]) -> NoReturn:
    """The sandbox and the demo live in the checkout, not in the product wheel."""
    if importlib.util.find_spec(name) is None:
        raise InputError(f"`storeline {name}` runs from a source checkout (it is not in the wheel)")
    os.execv(sys.executable, [sys.executable, "-m", name, *rest])  # noqa: S606


PASSTHROUGH: dict[str, Handler] = {
    "worker": _worker,
    "api": _api,
    "sandbox": _sandbox,
    "demo": _demo,
}


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="storeline", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)

    db = sub.add_parser("db", help="migrate or reset the database").add_subparsers(
        dest="db_command", required=True
    )
    db.add_parser("upgrade", help="apply every pending migration").set_defaults(func=_db_upgrade)
    reset = db.add_parser("reset", help="drop and rebuild every Storeline schema")
    reset.add_argument("--yes", action="store_true", help="confirm for a non-local database")
    reset.set_defaults(func=_db_reset)
    db.add_parser(
        "stop", help="stop the embedded Postgres that `storeline demo --keep` left running"
    ).set_defaults(func=_db_stop)

    seed = sub.add_parser("seed", help="load agencies, users, shops and credentials from TOML")
    seed.add_argument("--file", required=True, help="seed file (secrets inline or from env)")
    seed.set_defaults(func=_seed)

    keys = sub.add_parser("keys", help="credential encryption keys").add_subparsers(
        dest="keys_command", required=True
    )
    gen = keys.add_parser("generate", help="print a new STORELINE_ENCRYPTION_KEYS entry")
    gen.add_argument("--key-id", default="k1")
    gen.set_defaults(func=_keys_generate)

    export = sub.add_parser("export", help="copy the warehouse to an analytics store")
    targets = export.add_subparsers(dest="export_target", required=True)
    bq = targets.add_parser(
        "bigquery", help="enqueue a BigQuery mirror of every shop (or one) for the worker"
    )
    bq.add_argument("--shop", default=None, help="only this shop id")
    bq.set_defaults(func=_export_bigquery)
    token = sub.add_parser(
        "token", help="print a development access token (HS256 secret; refused with a JWKS)"
    )
    token.add_argument("--user", required=True, metavar="EMAIL", help="whose token")
    token.add_argument("--ttl", type=int, default=3600, help="seconds until it expires (3600)")
    token.set_defaults(func=_token)

    for name, text in (
        ("worker", "run the sync worker (see `storeline worker --help`)"),
        ("api", "serve the HTTP API (see `storeline api --help`)"),
        ("sandbox", "run the local source servers (see `storeline sandbox --help`)"),
        ("demo", "run the end-to-end demo (see `storeline demo --help`)"),
    ):
        sub.add_parser(name, help=text)
    return parser


def _exit_on_sigterm(signum: int, frame: FrameType | None) -> None:
    raise SystemExit(128 + signum)


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    # SIGTERM unwinds like any exit, so exit handlers run and the embedded Postgres this process
    # uses is released (storeline/core/embedded.py). Servers that catch it (uvicorn) re-raise it
    # once they have shut down; without this the default action killed the process right there.
    signal.signal(signal.SIGTERM, _exit_on_sigterm)
    if argv and argv[0] in PASSTHROUGH:
        # These subcommands own their flags; argparse's REMAINDER mangles leading options.
        args = argparse.Namespace(func=PASSTHROUGH[argv[0]], rest=argv[1:])
    else:
        args = build_parser().parse_args(argv)
    func: Handler = args.func
    try:
        return func(args)
    except StorelineError as exc:
        print(f"storeline: {exc}", file=sys.stderr)
        return 2 if isinstance(exc, InputError | ConfigError) else 1
    except KeyboardInterrupt:
        return 130
    except OSError as exc:  # connection refused, unreachable host, …
        print(f"storeline: {_describe(exc)}", file=sys.stderr)
        return 1
    except Exception as exc:
        if type(exc).__module__.startswith(("asyncpg", "psycopg", "sqlalchemy")):
            print(f"storeline: database error: {_describe(exc)}", file=sys.stderr)
            return 1
        raise


def _describe(exc: BaseException) -> str:
    """One line, never a secret (driver messages can quote the DSN)."""
    from storeline.core.logs import redact_value

    text = str(getattr(exc, "orig", None) or exc).strip().splitlines()
    return str(redact_value(text[0] if text else type(exc).__name__))


if __name__ == "__main__":
    raise SystemExit(main())
