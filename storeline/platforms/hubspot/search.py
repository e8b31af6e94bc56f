"""An incremental's window read through CRM search, sliced so no query pages past HubSpot's
10,000-result cap (docs/platforms/hubspot.md, item 11).

A slice is `modified GTE low AND modified LTE high`, sorted by the modified stamp (one sort rule
per search), paged by `after` up to the cap. A capped slice goes on from its last stamp `t`:
`GTE t` again while that makes progress; when the records at `t` alone may fill a slice (the
slice's last page is all `t`, or `t` is where it started) they are read by id instead,
`modified EQ t AND hs_object_id GT last`, sorted by hs_object_id, and the window goes on with
`GT t`. Slicing by stamp alone loops once more than 10,000 records share one stamp; by id it
always moves. Re-read records are harmless: the transform keeps one version per id.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from storeline.platforms.hubspot.client import BadRequest, HubSpotClient
from storeline.platforms.hubspot.objects import Kind, line, modified_of


def millis(ts: datetime) -> str:
    return str(round(ts.timestamp() * 1000))


@dataclass
class Page:
    """What one slice's paging saw: where to go on from (the last page's earliest stamp), its
    highest id, whether its last page was all one stamp, and whether it stopped at the cap."""

    last_stamp: datetime | None = None
    last_id: int = 0
    uniform_tail: bool = False
    capped: bool = False


class WindowReader:
    def __init__(self, client: HubSpotClient, kind: Kind) -> None:
        self.client = client
        self.kind = kind
        self.slices = 0  # tests read how the window was cut: searches in all, and by id
        self.id_slices = 0

    async def lines(self, low: datetime, high: datetime) -> AsyncIterator[bytes]:
        """Every record whose indexed stamp is in [low, high], as staged lines."""
        strict = False
        while True:
            bound = {"propertyName": self.kind.modified, "operator": "GT" if strict else "GTE"}
            filters = [
                {**bound, "value": millis(low)},
                {"propertyName": self.kind.modified, "operator": "LTE", "value": millis(high)},
            ]
            seen = Page()
            async for item in self._slice(filters, self.kind.modified, seen):
                yield item
            if not seen.capped or seen.last_stamp is None:
                return
            t = seen.last_stamp
            if seen.uniform_tail or t == low:
                async for item in self._one_stamp(t):
                    yield item
                low, strict = t, True
            else:
                low, strict = t, False

    async def _one_stamp(self, t: datetime) -> AsyncIterator[bytes]:
        """Every record stamped exactly `t`, in id order, sliced by id."""
        last = 0
        while True:
            filters = [
                {"propertyName": self.kind.modified, "operator": "EQ", "value": millis(t)},
                {"propertyName": "hs_object_id", "operator": "GT", "value": str(last)},
            ]
            seen = Page()
            self.id_slices += 1
            async for item in self._slice(filters, "hs_object_id", seen):
                yield item
            if not seen.capped or seen.last_id <= last:
                return
            last = seen.last_id

    async def _slice(
        self, filters: list[dict[str, Any]], sort: str, seen: Page
    ) -> AsyncIterator[bytes]:
        settings = self.client.settings
        limit = settings.search_page_limit
        body: dict[str, Any] = {
            "filterGroups": [{"filters": filters}],
            "sorts": [{"propertyName": sort, "direction": "ASCENDING"}],
            "properties": list(self.kind.properties),
            "limit": limit,
        }
        self.slices += 1
        after = 0
        while True:
            if after:
                body["after"] = str(after)
            try:
                page = await self.client.search(self.kind.name, body)
            except BadRequest:
                if not after:
                    raise
                seen.capped = True  # the cap came sooner than we counted: re-slice from here
                return
            stamps: set[datetime] = set()
            for obj in page.get("results") or []:
                if not isinstance(obj, dict) or obj.get("id") is None:
                    continue
                yield line(self.kind, "search", obj)
                at = modified_of(self.kind, obj)
                if at is not None:
                    stamps.add(at)
                seen.last_id = max(seen.last_id, int(obj["id"]))
            # Filters and sorts see the index's copy, bodies are current (a body's stamp can be
            # later than the one that matched): the page's earliest body stamp is a safe place
            # to go on from, the last one could skip records indexed between the two.
            if stamps:
                seen.last_stamp = min(stamps)
            seen.uniform_tail = len(stamps) == 1
            nxt = ((page.get("paging") or {}).get("next") or {}).get("after")
            if not nxt:
                return
            after = int(nxt)
            if after + limit > settings.search_result_cap:
                seen.capped = True
                return
