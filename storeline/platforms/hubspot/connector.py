"""The HubSpot connector: a portal's deals, contacts, companies and deal pipelines → staged raw →
upserted into core_warehouse by (id, updatedAt) in one fenced transaction.

Credentials: a private app's `access_token`, or an OAuth app's `client_id`, `client_secret` and
the portal's `refresh_token` (`oauth.py`: a grant per job, a refresh on expiry).

HISTORICAL_INIT / REBUILD (or a kind without a cursor) read the list endpoints (`after` paging,
with associations); INCREMENTAL searches the modified stamp from the cursor minus the overlap up
to the newest stamp search knew when the job started (`objects.newest`), sliced under the
10,000-result cap (`search.py`). Both read the archived list too: search never returns archived
records, and the warehouse soft-deletes them. The cursor is that starting "newest" stamp, never
a stamp read late in the job, so changes made while a job runs are read by the next one.

Search cannot return associations: the associations of every object an incremental finds
(new, or changed and perhaps re-associated) are read through the v4 batch read, a thousand ids a
request (`objects.links`), and replace the stored ones.

Each kind's plan (backfill or window, and the new cursor) is fixed in the job's progress on the
first attempt, and each step commits "done" with its last staged rows: a retry skips finished
steps and re-reads at most the one it was in (re-read records upsert to the same row).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from datetime import datetime, timedelta
from typing import Any

from storeline.core.enums import JobType, Platform
from storeline.platforms.hubspot import oauth, objects
from storeline.platforms.hubspot.client import HubSpotClient
from storeline.platforms.hubspot.objects import KINDS, Kind
from storeline.platforms.hubspot.search import WindowReader
from storeline.platforms.hubspot.settings import HubSpotSettings, hubspot_settings
from storeline.platforms.hubspot.sql import queries as sql
from storeline.worker.errors import CredentialError, TerminalError
from storeline.worker.jobs.contract import JobContext
from storeline.worker.kit.phases import Phases
from storeline.worker.kit.staging import Checkpoint, StagingWriter
from storeline.worker.kit.state import State, entry, read

TABLE = "hubspot_raw"
_BACKFILLS = (JobType.HISTORICAL_INIT, JobType.HISTORICAL_REBUILD)


class KindPlan(State):
    """One kind's work in this job, fixed on the first attempt."""

    planned: bool = False
    backfill: bool = True
    low: datetime | None = None  # incremental: search from here (cursor minus overlap)
    mark: datetime | None = None  # the cursor this job commits (newest stamp at its start)
    live_done: bool = False
    links_done: bool = False
    archived_done: bool = False


class KindCursor(State):
    modified: datetime | None = None


class HubSpotConnector:
    platform = Platform.HUBSPOT

    def __init__(self, settings: HubSpotSettings | None = None) -> None:
        self._settings = settings
        self.last_client: HubSpotClient | None = None  # tests read its counters
        self.phases: Phases | None = None  # the last run's phase timings (bench scripts)
        self.readers: list[WindowReader] = []

    async def run(self, ctx: JobContext) -> None:
        settings = self._settings or hubspot_settings()
        refresh: Callable[[], Awaitable[str]] | None = None
        if oauth.is_oauth(ctx.secrets):

            async def refresh() -> str:
                return await oauth.access_token(settings, ctx.secrets)

            token: Any = await refresh()
        else:
            token = ctx.secrets.get("access_token")
        if not isinstance(token, str) or not token:
            raise CredentialError("no HubSpot access token is stored", code="hubspot_no_token")
        unknown = [k for k in settings.objects if k not in KINDS]
        if unknown:
            raise TerminalError(f"unknown HubSpot object kinds {unknown}", code="hubspot_config")
        portal = str(ctx.metadata.get("portal_id") or ctx.shop.id)
        async with HubSpotClient(
            token, portal, settings, ctx.pool, on_progress=ctx.touch, refresh=refresh
        ) as client:
            self.last_client = client
            sync = HubSpotSync(ctx, client, settings, self.readers)
            self.phases = phase = Phases(ctx)
            async with phase("pipelines"):
                await sync.pipelines()
            for name in settings.objects:
                async with phase(name):
                    await sync.kind(KINDS[name])
            async with phase("transform"):
                await sync.transform()


class HubSpotSync:
    def __init__(
        self,
        ctx: JobContext,
        client: HubSpotClient,
        settings: HubSpotSettings,
        readers: list[WindowReader],
    ) -> None:
        self.ctx = ctx
        self.client = client
        self.settings = settings
        self.readers = readers
        self.writer = StagingWriter(ctx, TABLE, batch_bytes=settings.staging_batch_bytes)
        self.plans: dict[str, KindPlan] = {}

    async def pipelines(self) -> None:
        """Pipelines, stages and the portal's company currency are a handful of rows: re-read by
        every job (and attempt)."""
        await self.writer.copy(objects.pipelines(self.client))

    async def kind(self, kind: Kind) -> None:
        key = f"hubspot_{kind.name}"
        plan = read(KindPlan, self.ctx.job.progress, key)
        if not plan.planned:
            plan = await self._plan(kind)
            await self.ctx.save_progress(**entry(key, plan))
        self.ctx.check_cancelled()
        if not plan.live_done:
            plan = plan.model_copy(update={"live_done": True})
            if plan.backfill:
                lines = objects.listed(self.client, kind, archived=False)
            elif plan.low is not None and plan.mark is not None and plan.low <= plan.mark:
                reader = WindowReader(self.client, kind)
                self.readers.append(reader)
                lines = reader.lines(plan.low, plan.mark)
            else:
                lines = _nothing()
            await self.writer.copy(lines, checkpoint=_when_finished(key, plan))
        self.ctx.check_cancelled()
        if not plan.links_done:
            plan = plan.model_copy(update={"links_done": True})
            await self.writer.copy(await self._links(kind), checkpoint=_when_finished(key, plan))
        self.ctx.check_cancelled()
        if not plan.archived_done:
            plan = plan.model_copy(update={"archived_done": True})
            lines = objects.listed(self.client, kind, archived=True)
            await self.writer.copy(lines, checkpoint=_when_finished(key, plan))
        self.plans[kind.name] = plan

    async def _links(self, kind: Kind) -> AsyncIterator[bytes]:
        """The current associations of every object this job's search found: new ones have
        none stored, changed ones may have been re-associated. A backfill's lists carry them."""
        if not kind.associations:
            return _nothing()
        async with self.ctx.connection() as conn:
            rows = await conn.fetch(sql()["hubspot_searched"], self.ctx.job.id, kind.name)
        return objects.links(self.client, kind, [r["object_id"] for r in rows])

    async def _plan(self, kind: Kind) -> KindPlan:
        cursor = read(KindCursor, self.ctx.cursor, kind.name)
        newest = await objects.newest(self.client, kind)
        if self.ctx.job.job_type in _BACKFILLS or cursor.modified is None:
            return KindPlan(planned=True, backfill=True, mark=newest)
        overlap = timedelta(seconds=self.settings.search_overlap_seconds)
        mark = max(cursor.modified, newest) if newest is not None else cursor.modified
        return KindPlan(planned=True, backfill=False, low=cursor.modified - overlap, mark=mark)

    async def transform(self) -> None:
        """Every staged version upserted where it is not older than the stored one."""
        q = sql()
        shop, job = self.ctx.shop.id, self.ctx.job.id
        async with self.ctx.fenced() as conn:
            await conn.execute(q["hubspot_upsert_stages"], shop, job)
            for name in self.plans:
                await conn.execute(q[f"hubspot_upsert_{name}"], shop, job)
                if KINDS[name].associations:
                    await conn.execute(q[f"hubspot_links_{name}"], shop, job)
            await conn.execute(q["hubspot_company_currency"], shop, job)
        watermark = {
            name: KindCursor(modified=plan.mark).model_dump(mode="json")
            for name, plan in self.plans.items()
            if plan.mark is not None
        }
        self.ctx.set_cursor({**dict(self.ctx.cursor or {}), **watermark})


def _when_finished(key: str, plan: KindPlan) -> Checkpoint:
    def checkpoint(consumed: int, finished: bool) -> Mapping[str, Any]:
        return entry(key, plan) if finished else {}

    return checkpoint


async def _nothing() -> AsyncIterator[bytes]:
    return
    yield b""
