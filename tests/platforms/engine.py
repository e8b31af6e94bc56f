"""The real worker (claim, leases, heartbeats, completion with the cursor, NEEDS_REAUTH) running
one platform's connector against the sandbox: what every connector test drives jobs through."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from typing import Any

from storeline.core import db
from storeline.core.enums import Platform
from storeline.worker.jobs.runner import Worker
from storeline.worker.registry import ConnectorFactory
from storeline.worker.settings import WorkerSettings

WORKER_APP = "storeline-worker"  # the application_name of the connectors' pool, as in production

# Fast but proportionate timings: heartbeat = lease/3, reaper well inside a lease.
ENGINE: dict[str, Any] = {
    "slots": 4,
    "lease_seconds": 6.0,
    "reap_interval_seconds": 0.5,
    "poll_interval_seconds": 0.1,
    "grace_seconds": 1.0,
    "cancel_grace_seconds": 0.5,
    "backoff_base_seconds": 0.05,
    "backoff_cap_seconds": 0.2,
    "scheduler": False,
}


@asynccontextmanager
async def running_worker(
    dsn: str, connectors: Mapping[Platform, ConnectorFactory], *, pool_size: int = 8
) -> AsyncIterator[Worker]:
    """A Worker with its two pools (connectors', engine's) running in this event loop; stopped
    and its pools closed on exit."""
    pool = await db.create_pool(dsn, min_size=1, max_size=pool_size, application_name=WORKER_APP)
    engine_pool = await db.create_pool(
        dsn, min_size=1, max_size=3, application_name="storeline-engine"
    )
    worker = Worker(
        pool=pool,
        engine_pool=engine_pool,
        settings=WorkerSettings(**ENGINE),
        connectors=dict(connectors),
        listen_dsn=dsn,
    )
    task = asyncio.create_task(worker.run())
    try:
        yield worker
    finally:
        worker.stop(immediate=True)
        await asyncio.wait_for(task, 30)
        await pool.close()
        await engine_pool.close()
