"""Batched completion: jobs that finish while a commit is in flight share the next one.

Each job's SUCCEEDED mark and cursor advance stay atomic and individually fenced (a row whose
lease was lost simply matches nothing); batching only shares the commit. No artificial delay: an
idle worker completes a job with one statement at once, a busy one amortises commits the way
River's batch completer does (commits per job dominate the drain rate). The
completer keeps one connection for its flushes (`HeldConnection`: no pool reset round trip per
batch) and sends the batch as parallel arrays (ids, tokens, watermarks).
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any
from uuid import UUID

import asyncpg

from storeline.core.sql import queries
from storeline.worker.jobs.held import HeldConnection

_MAX_BATCH = 500


@dataclass
class _Item:
    job_id: int
    token: UUID
    watermark: Mapping[str, Any] | None
    done: asyncio.Future[bool] = field(
        default_factory=lambda: asyncio.get_running_loop().create_future()
    )


class Completer:
    def __init__(self, pool: asyncpg.Pool, *, synchronous_commit: str = "on") -> None:
        self._pool = pool
        self._held = HeldConnection(pool)
        self._synchronous_commit = synchronous_commit
        self._queue: asyncio.Queue[_Item] = asyncio.Queue()
        self._task: asyncio.Task[None] | None = None
        self.flushes = 0

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="completer")

    async def close(self) -> None:
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
            self._task = None
        await self._held.release()
        while not self._queue.empty():
            item = self._queue.get_nowait()
            if not item.done.done():
                item.done.set_exception(RuntimeError("worker stopped before completing the job"))

    async def complete(self, job_id: int, token: UUID, watermark: Mapping[str, Any] | None) -> bool:
        """SUCCEEDED + cursor advance; False when the lease was lost (nothing written)."""
        item = _Item(job_id, token, watermark)
        if self._task is None:
            return job_id in await self._flush([item], self._pool)
        self._queue.put_nowait(item)
        return await item.done

    async def _flush(self, batch: list[_Item], db: asyncpg.Pool | HeldConnection) -> set[int]:
        rows = await db.fetch(
            queries("app_dashboard")["complete_jobs"],
            [i.job_id for i in batch],
            [i.token for i in batch],
            [i.watermark for i in batch],
            self._synchronous_commit,
        )
        self.flushes += 1
        return {r["id"] for r in rows}

    async def _run(self) -> None:
        while True:
            batch = [await self._queue.get()]
            while not self._queue.empty() and len(batch) < _MAX_BATCH:
                batch.append(self._queue.get_nowait())
            try:
                done = await self._flush(batch, self._held)
            except Exception as exc:
                for item in batch:
                    if not item.done.done():
                        item.done.set_exception(exc)
                continue
            for item in batch:
                if not item.done.done():
                    item.done.set_result(item.job_id in done)
