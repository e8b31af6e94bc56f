"""Shopify's staging table: its line contract and a plain loader (retention is every
platform's: storeline/core/sql/app_dashboard/98_staging_retention.sql).

Jobs stage through storeline/worker/kit/staging.py (each batch fenced with its resume point).
`copy_lines` is the same COPY into a caller's connection or transaction, without a job: the
warehouse tests and bench/ingest.py load files with it.

Lines go to Postgres unparsed: Postgres parses the jsonb (it must anyway) and derives gid,
typename and parent from it in generated columns, so the loader costs one escape per line and
memory stays flat whatever the file size. Rows are framed and copied by the
kit's helpers (storeline/worker/kit/staging.py), as a job's StagingWriter does.

Line contract (what the transform reads, see storeline/platforms/shopify/sql/queries/warehouse.sql):
one JSON object per line exactly as Shopify returned it, with `id` (a gid), `__typename` when
selected (else the gid's type is used) and `__parentId` on connection children. Refund details from
refund_details.graphql may be loaded as `Refund` lines (`__parentId` = the Order gid, with
refundLineItems/refundShippingLines nested) or as the nodes(ids:) Order objects themselves (an Order
line without createdAt is read as a refund-details carrier, never as the order).
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import asyncpg

from storeline.platforms.shopify.sql import queries
from storeline.worker.kit.staging import DEFAULT_BATCH_BYTES, copy_rows, frame, row_prefix

TABLE = "shopify_bulk_rows"


async def copy_lines(
    conn: asyncpg.Connection, *, job_id: int, shop_id: str, lines: AsyncIterator[bytes]
) -> int:
    """COPY every non-blank line into staging; returns how many were loaded.

    Line numbers continue after the job's existing rows, so a job may load several files (a
    partial result, then the rest; pages; refund details) and the transform still keeps the
    last line of every gid. If `lines` raises, the lines it yielded are loaded first. One short
    COPY per ~1 MiB batch: no statement stays open while the source is still being read.
    """
    start = int(await conn.fetchval(queries()["shopify_next_line_no"], job_id))
    prefix = row_prefix(job_id, shop_id)
    done = start
    batch: list[bytes] = []
    size = 0
    source = aiter(lines)
    while True:
        try:
            raw = await anext(source)
        except StopAsyncIteration:
            break
        except Exception:
            # The source broke (a download gave up): every whole line it yielded is committed
            # before the error goes on, so a caller that counted them can resume right after.
            await copy_rows(conn, TABLE, frame(prefix, done, batch))
            raise
        line = raw.strip()
        if not line:
            continue
        batch.append(line)
        size += len(line)
        if size >= DEFAULT_BATCH_BYTES:
            await copy_rows(conn, TABLE, frame(prefix, done, batch))
            done += len(batch)
            batch, size = [], 0
    await copy_rows(conn, TABLE, frame(prefix, done, batch))
    return done + len(batch) - start
