"""One shop's mirror pass: every table's changed rows to BigQuery, then the reporting views.

Per table: read the rows whose `mirror_version` is above the table's watermark, and the keys
deleted since, in one REPEATABLE READ snapshot, streamed into a Parquet file (memory stays flat);
load that file into a staging table of this attempt (a load job, `WRITE_TRUNCATE`); run one
MERGE into the target; drop the staging table; then advance the watermark in the job's fenced
transaction. A crash anywhere before that commit leaves the watermark where it was, so the
retry sends the same rows again and the MERGE, keyed and "only if at least as new", writes them
once. A table with nothing new costs no BigQuery job at all.

The google-cloud-bigquery client blocks, so each call runs in a thread.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import os
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, TypeVar

import asyncpg
import pyarrow as pa
import pyarrow.parquet as pq
from google.api_core.exceptions import NotFound
from google.cloud import bigquery

from storeline.core.enums import Platform
from storeline.export.bigquery import views
from storeline.export.bigquery.settings import BigQuerySettings
from storeline.export.bigquery.sql import bigquery_templates, queries
from storeline.export.bigquery.tables import SHOPS, MirrorTable
from storeline.export.bigquery.tables import load as load_tables
from storeline.worker.jobs.contract import JobContext

TARGET = Platform.BIGQUERY
_T = TypeVar("_T")

# (where, dataset, table, schema) this process has already made sure of: later exports skip
# the metadata calls. A table deleted by hand surfaces as NotFound, which clears this.
_ENSURED: set[tuple[str, str, str, int]] = set()


@dataclass
class TableResult:
    rows: int = 0  # changed rows moved (inserted or updated)
    deleted: int = 0  # deletions moved
    load_jobs: int = 0
    bytes: int = 0  # Parquet bytes uploaded
    version: int = -1  # the watermark after this pass


@dataclass
class MirrorResult:
    dataset: str
    tables: dict[str, TableResult] = field(default_factory=dict)
    views: list[str] = field(default_factory=list)
    skipped_views: dict[str, str] = field(default_factory=dict)
    seconds: float = 0.0
    # Wall time per phase (read, load, merge, advance, metadata, views), for bench/bigquery.py.
    timings: dict[str, float] = field(default_factory=dict)

    @property
    def rows(self) -> int:
        return sum(t.rows + t.deleted for t in self.tables.values())

    @property
    def load_jobs(self) -> int:
        return sum(t.load_jobs for t in self.tables.values())

    @property
    def bytes(self) -> int:
        return sum(t.bytes for t in self.tables.values())

    def summary(self) -> dict[str, Any]:
        return {
            "dataset": self.dataset,
            "rows": self.rows,
            "load_jobs": self.load_jobs,
            "bytes": self.bytes,
            "tables": {n: t.rows + t.deleted for n, t in self.tables.items() if t.load_jobs},
            "views": len(self.views),
        }


def _label(value: str) -> str:
    return "".join(c if c.isalnum() or c in "_-" else "_" for c in value.lower())[:63]


class Mirror:
    def __init__(
        self, ctx: JobContext, client: bigquery.Client, settings: BigQuerySettings
    ) -> None:
        self.ctx = ctx
        self.client = client
        self.settings = settings
        self.shop_id = ctx.shop.id
        self.project = client.project
        self.where = f"{settings.endpoint or ''}/{self.project}"
        self.dataset = settings.dataset_id(self.shop_id)
        self.staging = settings.staging_dataset_id(self.shop_id)
        # Staging tables belong to this attempt: a worker that lost its lease cannot swap the
        # rows of the one that holds it now.
        self.attempt = f"{ctx.job.id}_{ctx.job.lease_token.hex[:8]}"
        self.q = queries()
        self.bq = bigquery_templates()
        self.timings: dict[str, float] = {}

    async def _call(self, fn: Callable[..., _T], *args: Any, **kwargs: Any) -> _T:
        result = await asyncio.to_thread(fn, *args, **kwargs)
        self.ctx.touch()
        return result

    @contextlib.contextmanager
    def _phase(self, name: str) -> Iterator[None]:
        started = time.perf_counter()
        try:
            yield
        finally:
            spent = time.perf_counter() - started
            self.timings[name] = self.timings.get(name, 0.0) + spent

    async def run(self) -> MirrorResult:
        started = time.monotonic()
        result = MirrorResult(self.dataset)
        async with self.ctx.connection() as conn:
            tables = await load_tables(conn)
            marks = {
                r["table_name"]: r["version"]
                for r in await conn.fetch(self.q["mirror_watermarks"], self.shop_id, TARGET)
            }
            view_rows = await conn.fetch(self.q["mirror_views"])
            functions = {
                r["name"]: views.SqlFunction(list(r["args"] or []), r["body"])
                for r in await conn.fetch(self.q["mirror_functions"])
            }
            shop = await conn.fetchrow(self.q["mirror_shop"], self.shop_id)
        try:
            with self._phase("metadata"):
                await self._call(self._ensure, [*tables.values(), SHOPS])
            result.tables[SHOPS.name] = await self._mirror_shop(shop, marks.get(SHOPS.name))
            # Tables are independent (own snapshot, staging table, MERGE and watermark), so a few
            # run at once: BigQuery jobs spend most of their time waiting on the service.
            gate = asyncio.Semaphore(self.settings.parallel_tables)

            async def one(name: str) -> None:
                async with gate:
                    self.ctx.check_cancelled()
                    result.tables[name] = await self._mirror_table(
                        tables[name], marks.get(name, -1)
                    )

            try:
                async with asyncio.TaskGroup() as group:
                    for name in sorted(tables):
                        group.create_task(one(name))
            except BaseExceptionGroup as failed:
                raise failed.exceptions[0] from None  # the engine classifies one error
            names = {*tables, SHOPS.name}
            for row in view_rows:
                view = views.transpile(
                    row["view_name"],
                    row["definition"],
                    project=self.project,
                    dataset=self.dataset,
                    tables=names,
                    functions=functions,
                )
                if view.query is None:
                    result.skipped_views[view.name] = view.reason or "not mirrored"
                    continue
                with self._phase("views"):
                    await self._call(self._ensure_view, view.name, view.query)
                result.views.append(view.name)
        except NotFound:
            _ENSURED.clear()  # something was deleted behind our back: check everything again
            raise
        result.seconds = time.monotonic() - started
        result.timings = dict(self.timings)
        return result

    # -- BigQuery metadata (blocking; run in a thread) -----------------------------------------

    def _ensure(self, tables: Sequence[MirrorTable]) -> None:
        for dataset_id, expiry in ((self.dataset, None), (self.staging, True)):
            if (self.where, dataset_id, "", 0) in _ENSURED:
                continue
            dataset = bigquery.Dataset(f"{self.project}.{dataset_id}")
            dataset.location = self.settings.location
            dataset.labels = {"storeline_shop": _label(self.shop_id)}
            if expiry:
                hours = self.settings.staging_expiration_hours
                dataset.default_table_expiration_ms = int(hours * 3_600_000)
            self.client.create_dataset(dataset, exists_ok=True)
            _ENSURED.add((self.where, dataset_id, "", 0))
        for table in tables:
            self._ensure_table(table)

    def _ensure_table(self, table: MirrorTable) -> None:
        schema = table.bq_schema()
        fingerprint = hash(tuple((f.name, f.field_type, f.mode) for f in schema))
        if (self.where, self.dataset, table.name, fingerprint) in _ENSURED:
            return
        wanted = bigquery.Table(f"{self.project}.{self.dataset}.{table.name}", schema=schema)
        if table.partition:
            wanted.time_partitioning = bigquery.TimePartitioning(
                type_=self.settings.partition_type, field=table.partition
            )
        if table.clustering:
            wanted.clustering_fields = table.clustering
        existing = self.client.create_table(wanted, exists_ok=True)
        have = {f.name for f in existing.schema}
        added = [f for f in schema if f.name not in have]
        if added:
            # Add-only and nullable: the table's metadata first, then the DDL (the emulator
            # only honours the DDL; on BigQuery it is a no-op after the metadata update).
            existing.schema = [*existing.schema, *added]
            self.client.update_table(existing, ["schema"])
            for f in added:
                type_ = f"ARRAY<{f.field_type}>" if f.mode == "REPEATED" else f.field_type
                self.client.query(
                    f"ALTER TABLE `{wanted.project}.{wanted.dataset_id}.{wanted.table_id}` "
                    f"ADD COLUMN IF NOT EXISTS `{f.name}` {type_}"
                ).result()
        _ENSURED.add((self.where, self.dataset, table.name, fingerprint))

    def _ensure_view(self, name: str, query: str) -> None:
        key = (self.where, self.dataset, name, hash(query))
        if key in _ENSURED:
            return
        view_id = f"{self.project}.{self.dataset}.{name}"
        try:
            current = self.client.get_table(view_id).view_query
        except NotFound:
            current = None
        if current is None or current.strip() != query.strip():
            sql = self.bq["view"].format(view=view_id, query=query)
            self.client.query(sql).result()
        _ENSURED.add(key)

    # -- one table ------------------------------------------------------------------------------

    async def _mirror_table(self, table: MirrorTable, since: int) -> TableResult:
        fd, name = tempfile.mkstemp(prefix=f"storeline-{table.name}-", suffix=".parquet")
        os.close(fd)
        path = Path(name)
        try:
            with self._phase("read"):
                horizon, upserts, deletes = await self._read(table, since, path)
            done = TableResult(rows=upserts, deleted=deletes, version=max(since, horizon))
            if upserts or deletes:
                self.ctx.check_cancelled()
                staging = f"{self.project}.{self.staging}.{table.name}__{self.attempt}"
                with self._phase("load"):
                    done.bytes = await self._call(self._load, table, staging, path)
                done.load_jobs = 1
                self.ctx.check_cancelled()
                with self._phase("merge"):
                    await self._call(self._merge, table, staging)
                    await self._call(self.client.delete_table, staging, not_found_ok=True)
            # Nothing moved: the watermark may stay (reading above it again finds the same
            # nothing), which saves a fenced write per table on every quiet export.
            if done.version > since and (upserts or deletes or since < 0):
                with self._phase("advance"):
                    await self._advance(table.name, done.version, upserts + deletes)
            return done
        finally:
            await asyncio.to_thread(path.unlink, missing_ok=True)

    async def _read(self, table: MirrorTable, since: int, path: Path) -> tuple[int, int, int]:
        """Changed rows and deleted keys into a Parquet file; (horizon, rows, deletions)."""
        schema = table.arrow_schema()
        types = [f.type for f in schema]
        width = len(table.all_columns)
        batch_rows = self.settings.batch_rows
        upserts = deletes = 0
        with pq.ParquetWriter(path, schema) as writer:

            def write(rows: list[tuple[Any, ...]]) -> None:
                arrays = [pa.array([r[i] for r in rows], type=types[i]) for i in range(width + 1)]
                writer.write_table(pa.Table.from_arrays(arrays, schema=schema))

            async with (
                self.ctx.connection() as conn,
                conn.transaction(isolation="repeatable_read", readonly=True),
            ):
                horizon: int = await conn.fetchval(self.q["mirror_horizon"])
                batch: list[tuple[Any, ...]] = []
                async for rec in conn.cursor(
                    table.changes_query(), self.shop_id, since, prefetch=batch_rows
                ):
                    batch.append((*rec.values(), False))
                    if len(batch) >= batch_rows:
                        write(batch)
                        upserts += len(batch)
                        batch = []
                        self.ctx.touch()
                if batch:
                    write(batch)
                    upserts += len(batch)
                deleted = await conn.fetch(table.deletions_query(), self.shop_id, since, table.name)
                if deleted:
                    write([self._tombstone(table, rec) for rec in deleted])
                    deletes = len(deleted)
        return horizon, upserts, deletes

    def _tombstone(self, table: MirrorTable, rec: asyncpg.Record) -> tuple[Any, ...]:
        values = dict(rec.items())
        values["shop_id"] = self.shop_id
        return (
            *(values.get(c.name, [] if c.repeated else None) for c in table.all_columns),
            True,
        )

    def _load(self, table: MirrorTable, staging: str, path: Path) -> int:
        schema = table.staging_schema()
        stage = bigquery.Table(staging, schema=schema)
        stage.expires = datetime.now(UTC) + timedelta(hours=self.settings.staging_expiration_hours)
        self.client.create_table(stage, exists_ok=True)
        config = bigquery.LoadJobConfig(
            source_format=bigquery.SourceFormat.PARQUET,
            write_disposition=bigquery.WriteDisposition.WRITE_TRUNCATE,
            create_disposition=bigquery.CreateDisposition.CREATE_IF_NEEDED,
            schema=schema,
        )
        options = bigquery.ParquetOptions()  # type: ignore[no-untyped-call]
        options.enable_list_inference = True  # text[] → REPEATED STRING
        config.parquet_options = options
        config.labels = {"storeline_shop": _label(self.shop_id)}
        with path.open("rb") as source:
            job = self.client.load_table_from_file(
                source, staging, job_config=config, job_id_prefix=f"storeline_{table.name}_"
            )
        job.result()
        return path.stat().st_size

    def _merge(self, table: MirrorTable, staging: str) -> None:
        names = [c.name for c in table.all_columns]
        key = set(table.key)
        sql = self.bq["merge"].format(
            target=f"{self.project}.{self.dataset}.{table.name}",
            staging=staging,
            on=" AND ".join(f"T.`{k}` = S.`{k}`" for k in table.key),
            assignments=", ".join(f"`{n}` = S.`{n}`" for n in names if n not in key),
            columns=", ".join(f"`{n}`" for n in names),
            values=", ".join(f"S.`{n}`" for n in names),
        )
        config = bigquery.QueryJobConfig(labels={"storeline_shop": _label(self.shop_id)})
        if self.settings.maximum_bytes_billed:
            config.maximum_bytes_billed = self.settings.maximum_bytes_billed
        self.client.query(sql, job_config=config).result()

    async def _advance(self, table_name: str, version: int, rows: int) -> None:
        async with self.ctx.fenced() as conn:
            await conn.execute(
                self.q["mirror_advance"],
                self.shop_id,
                TARGET,
                table_name,
                version,
                rows,
                self.ctx.job.id,
            )
            await conn.execute(self.q["mirror_prune_tombstones"], self.shop_id, table_name)

    # -- the shop's own row ---------------------------------------------------------------------

    async def _mirror_shop(self, shop: asyncpg.Record | None, since: int | None) -> TableResult:
        """The one-row `shops` table the views join, replaced whenever the row changed (its
        watermark is a fingerprint of the row, not a transaction id)."""
        if shop is None:
            return TableResult()
        values = (shop["id"], shop["name"], shop["currency"], shop["timezone"])
        digest = hashlib.sha256(repr(values).encode()).hexdigest()
        fingerprint = int(digest[:15], 16)
        if since == fingerprint:
            return TableResult(version=fingerprint)
        rows = [{"id": v[0], "name": v[1], "currency": v[2], "timezone": v[3]} for v in [values]]
        data = pa.Table.from_pylist(
            rows, schema=pa.schema([(c.name, c.arrow_type()) for c in SHOPS.columns])
        )
        fd, name = tempfile.mkstemp(prefix="storeline-shops-", suffix=".parquet")
        os.close(fd)
        path = Path(name)
        try:
            pq.write_table(data, path)
            size = await self._call(self._replace, f"{self.project}.{self.dataset}.shops", path)
        finally:
            await asyncio.to_thread(path.unlink, missing_ok=True)
        async with self.ctx.fenced() as conn:
            await conn.execute(
                self.q["mirror_advance"],
                self.shop_id,
                TARGET,
                SHOPS.name,
                fingerprint,
                1,
                self.ctx.job.id,
            )
        return TableResult(rows=1, load_jobs=1, bytes=size, version=fingerprint)

    def _replace(self, table_id: str, path: Path) -> int:
        config = bigquery.LoadJobConfig(
            source_format=bigquery.SourceFormat.PARQUET,
            write_disposition=bigquery.WriteDisposition.WRITE_TRUNCATE,
            schema=SHOPS.bq_schema(),
        )
        with path.open("rb") as source:
            self.client.load_table_from_file(
                source, table_id, job_config=config, job_id_prefix="storeline_shops_"
            ).result()
        return path.stat().st_size
