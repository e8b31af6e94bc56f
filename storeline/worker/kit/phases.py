"""Phase timing every connector shares: `async with phases("orders"):` adds the block's wall
time to `phases.timings` (what bench scripts print) and logs it with the job, shop and platform,
so a slow sync says where its time went (fetching, staging, the transform) without a profiler."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from storeline.worker.jobs.contract import JobContext
from storeline.worker.logs import log


class Phases:
    def __init__(self, ctx: JobContext) -> None:
        self.ctx = ctx
        self.timings: dict[str, float] = {}  # phase → seconds, summed over repeats

    @asynccontextmanager
    async def __call__(self, name: str) -> AsyncIterator[None]:
        started = time.perf_counter()
        try:
            yield
        finally:
            seconds = time.perf_counter() - started
            self.timings[name] = self.timings.get(name, 0.0) + seconds
            job = self.ctx.job
            log.info(
                "phase_done",
                phase=name,
                seconds=round(seconds, 3),
                job_id=job.id,
                shop_id=job.shop_id,
                platform=job.platform.value,
            )
