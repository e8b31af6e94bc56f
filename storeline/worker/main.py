"""`storeline worker`: run the sync job engine until SIGTERM (exit 0) or a watchdog trip (3)."""

from __future__ import annotations

import argparse
import asyncio
import signal
import sys

from storeline.core import aio, db
from storeline.core import dsn as dsns
from storeline.core.errors import StorelineError
from storeline.worker import observe, registry
from storeline.worker.jobs.runner import Worker
from storeline.worker.logs import log
from storeline.worker.settings import WorkerSettings, worker_settings

# Claims and completions (one held connection each), heartbeats, reaper and scheduler: a small
# pool of their own.
_ENGINE_POOL_SIZE = 5


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="storeline worker",
        description="Run the sync worker. Settings come from STORELINE_WORKER_* variables; "
        "these flags override them.",
    )
    parser.add_argument("--slots", type=int, help="jobs run concurrently")
    parser.add_argument(
        "--connector",
        action="append",
        default=[],
        metavar="PLATFORM=module:factory",
        help="run PLATFORM's jobs with this connector factory (* for every platform)",
    )
    parser.add_argument("--no-scheduler", action="store_true", help="do not enqueue stale shops")
    parser.add_argument("--worker-id", help="name in logs and sync_job_events (default: random)")
    return parser


def _settings(args: argparse.Namespace) -> WorkerSettings:
    update: dict[str, object] = {}
    if args.slots is not None:
        update["slots"] = args.slots
    if args.no_scheduler:
        update["scheduler"] = False
    return worker_settings().model_copy(update=update)


async def _serve(settings: WorkerSettings, args: argparse.Namespace) -> int:
    # Signals are handled from the first moment: a SIGTERM while the worker is still starting
    # (a deploy replacing it) stops it cleanly once it can, instead of killing it mid-connect.
    signals: list[int] = []
    worker: Worker | None = None

    def on_signal() -> None:
        signals.append(1)
        if worker is not None:
            worker.stop()

    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, on_signal)
    overrides = registry.parse_overrides([settings.connectors, *args.connector])
    connectors = registry.load(overrides)
    if not connectors:
        raise StorelineError(
            "no connector is registered (storeline/worker/registry.py); nothing to run"
        )
    target = dsns.resolve()
    pool = await db.create_pool(
        target,
        min_size=1,
        max_size=settings.slots * 2 + 2,
        command_timeout=settings.connector_statement_timeout_seconds,
        application_name="storeline-worker",
    )
    engine_pool = await db.create_pool(
        target, min_size=1, max_size=_ENGINE_POOL_SIZE, application_name="storeline-engine"
    )
    metrics = (
        observe.serve(settings.metrics_port, settings.metrics_host)
        if settings.metrics_port is not None
        else None
    )
    listen = settings.listen_url.get_secret_value() if settings.listen_url else target
    worker = Worker(
        pool=pool,
        engine_pool=engine_pool,
        settings=settings,
        connectors=connectors,
        listen_dsn=listen,
        worker_id=args.worker_id,
    )
    for _ in signals:
        worker.stop()  # asked to stop while starting: drain at once (nothing was claimed)
    try:
        code = await worker.run()
    finally:
        if metrics is not None:
            metrics.shutdown()
        for p in (pool, engine_pool):
            if worker.exit_code:
                p.terminate()  # the database is not answering: do not wait on it
            else:
                try:
                    await asyncio.wait_for(p.close(), 10)
                except TimeoutError:
                    p.terminate()
    return code


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        settings = _settings(args)
        return aio.run(_serve(settings, args))
    except StorelineError as exc:
        print(f"storeline worker: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
    except OSError as exc:
        log.error("worker_cannot_start", error=f"{type(exc).__name__}: {exc}")
        return 1


if __name__ == "__main__":
    raise SystemExit(main())
