"""`storeline api`: serve the HTTP API with uvicorn until SIGTERM."""

from __future__ import annotations

import argparse
import sys

import uvicorn

from storeline.api.app import create_app
from storeline.api.server import server_config
from storeline.api.settings import api_settings
from storeline.core import dsn as dsns
from storeline.core.errors import StorelineError


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="storeline api",
        description="Serve the HTTP API. Settings come from STORELINE_API_* and DATABASE_URL.",
    )
    parser.add_argument("--host", help="interface to bind (default 127.0.0.1)")
    parser.add_argument("--port", type=int, help="port (default 8000)")
    args = parser.parse_args(argv)
    try:
        settings = api_settings()
        app = create_app(settings, dsn=dsns.resolve())
    except StorelineError as exc:
        print(f"storeline api: {exc}", file=sys.stderr)
        return 2
    config = server_config(
        app,
        host=args.host or settings.host,
        port=args.port if args.port is not None else settings.port,
        log_level="warning",
        loop="uvloop" if sys.platform != "win32" else "asyncio",
    )
    uvicorn.Server(config).run()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
