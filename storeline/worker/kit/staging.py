"""Raw lines into a staging table with COPY, each batch in its own fenced transaction.

A batch's rows, the resume point that covers them and the job's `records_synced` commit together
(`JobContext.fenced()`: lease checked before, row locked and re-checked before COMMIT) or not at
all. So a dropped connection, a lost lease or a zombie worker can only lose a batch that also
left no trace in the resume point: the next attempt resumes from what committed, never from what
was sent (a resume point saved apart from its rows once skipped lines that never arrived).

Lines go to Postgres unparsed: Postgres parses the jsonb (it must anyway) and a table may derive
columns from it, so the loader costs one escape per line and memory stays flat (one batch). The
pool's jsonb codec is text-only, which rules out asyncpg's binary `copy_records_to_table`; batches
go as COPY text format. The source is read with no transaction open: a slow download never holds
a backend or a lock.

Every staging table has (sync_job_id, shop_id, line_no, payload); line numbers continue after
the job's committed rows, so a transform that keeps the last line per key sees a re-sent line as
the newer copy of itself.
"""

from __future__ import annotations

import io
from collections.abc import AsyncIterator, Callable, Mapping
from typing import Any

import asyncpg

from storeline.core.sql import queries
from storeline.worker import observe
from storeline.worker.errors import LeaseLost
from storeline.worker.jobs.contract import JobContext

COLUMNS = ("sync_job_id", "shop_id", "line_no", "payload")
DEFAULT_BATCH_BYTES = 1 << 20  # ~1 MiB per transaction: cheap per row, flat in memory

# Given how many items of the stream the committed batches cover (blank ones included) and
# whether the stream has ended, the progress keys to merge in the same transaction: the stream's
# resume point. The last batch of a stream that ended is committed with finished=True (also
# when the stream yielded nothing), so "this range is done" commits with its last rows.
Checkpoint = Callable[[int, bool], Mapping[str, Any]]


def escape(line: bytes) -> bytes:
    """COPY text format: backslash, and the whitespace JSON may contain between tokens."""
    if b"\\" in line:
        line = line.replace(b"\\", b"\\\\")
    if b"\t" in line or b"\r" in line:
        line = line.replace(b"\t", b"\\t").replace(b"\r", b"\\r")
    return line


def frame(prefix: bytes, after: int, lines: list[bytes]) -> bytearray:
    """COPY text rows for `lines`, numbered from `after + 1`; `prefix` is `row_prefix(...)`."""
    buf = bytearray()
    for line_no, line in enumerate(lines, start=after + 1):
        buf += prefix
        buf += str(line_no).encode()
        buf += b"\t"
        buf += escape(line)
        buf += b"\n"
    return buf


def row_prefix(job_id: int, shop_id: str) -> bytes:
    return f"{job_id}\t{shop_id}\t".encode()


async def copy_rows(conn: asyncpg.Connection, table: str, rows: bytearray) -> None:
    """One COPY of framed rows into `staging_ingest.<table>` (a no-op for none)."""
    if rows:
        await conn.copy_to_table(
            table, schema_name="staging_ingest", source=io.BytesIO(rows), columns=COLUMNS,
            format="text",
        )  # fmt: skip


class StagingWriter:
    """COPY a job's raw lines into `staging_ingest.<table>`; see the module docstring."""

    def __init__(
        self, ctx: JobContext, table: str, *, batch_bytes: int = DEFAULT_BATCH_BYTES
    ) -> None:
        self.ctx = ctx
        self.table = table
        self.batch_bytes = batch_bytes
        self._prefix = row_prefix(ctx.job.id, ctx.shop.id)
        # The table is the connector's constant, never input; an index probe on the primary key.
        self._next_line = (
            f"SELECT coalesce(max(line_no), 0) FROM staging_ingest.{table} WHERE sync_job_id = $1"
        )

    async def copy(
        self, lines: AsyncIterator[bytes], *, checkpoint: Checkpoint | None = None
    ) -> int:
        """Stage every non-blank line of `lines`; returns how many committed. If `lines` raises,
        the whole lines it yielded commit first (with their checkpoint), then the error goes on."""
        loaded = 0
        consumed = 0  # items taken from `lines`, blank ones too: what a checkpoint counts
        pending: list[bytes] = []
        size = 0
        source = aiter(lines)
        while True:
            try:
                raw = await anext(source)
            except StopAsyncIteration:
                break
            except Exception:
                if pending:
                    loaded += await self._commit(pending, consumed, checkpoint, finished=False)
                raise
            consumed += 1
            line = raw.strip()
            if not line:
                continue
            pending.append(line)
            size += len(line)
            if size >= self.batch_bytes:
                loaded += await self._commit(pending, consumed, checkpoint, finished=False)
                pending, size = [], 0
        if pending or checkpoint is not None:
            loaded += await self._commit(pending, consumed, checkpoint, finished=True)
        return loaded

    async def _commit(
        self, lines: list[bytes], consumed: int, checkpoint: Checkpoint | None, *, finished: bool
    ) -> int:
        progress = dict(checkpoint(consumed, finished)) if checkpoint is not None else {}
        job = self.ctx.job
        async with self.ctx.fenced() as conn:
            # Numbered inside the transaction from what committed: a batch that rolled back
            # leaves no gap and no number taken twice.
            after = int(await conn.fetchval(self._next_line, job.id))
            await copy_rows(conn, self.table, frame(self._prefix, after, lines))
            booked = await conn.fetchval(
                queries("app_dashboard")["stage_batch"],
                job.id,
                job.lease_token,
                progress,
                len(lines),
            )
            if booked is None:
                raise LeaseLost(f"job {job.id}: lease lost")
        observe.rows_synced(job.platform, len(lines))
        return len(lines)
