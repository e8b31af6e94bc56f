"""What the connector reads of each CRM object kind, and the list reader (backfills, archives).

Every staged line wraps one object exactly as HubSpot returned it with where it came from:
`{"kind": "deals", "source": "list" | "archived" | "search", "object": {...}}`. The source matters
to the transform: a list read asked for associations (absent means none), a search cannot return
them (absent means unknown: keep what is stored, until the object's `links` line says).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import orjson

from storeline.platforms.hubspot.client import HubSpotClient
from storeline.worker.errors import CredentialError


@dataclass(frozen=True)
class Kind:
    name: str
    modified: str  # the property search filters and sorts on (contacts have their own name)
    properties: tuple[str, ...]
    associations: tuple[str, ...]


KINDS: dict[str, Kind] = {
    "deals": Kind(
        "deals",
        "hs_lastmodifieddate",
        (
            "amount", "deal_currency_code", "pipeline", "dealstage", "closedate", "createdate",
            "hs_lastmodifieddate", "hubspot_owner_id", "hs_is_closed_won", "hs_is_closed",
            "hs_deal_stage_probability", "dealname", "dealtype", "renewal_date",
            "amount_in_home_currency",
        ),
        ("contacts", "companies"),
    ),
    "contacts": Kind(
        "contacts",
        "lastmodifieddate",
        (
            "email", "firstname", "lastname", "lifecyclestage", "hubspot_owner_id", "createdate",
            "lastmodifieddate",
        ),
        ("companies",),
    ),
    "companies": Kind(
        "companies",
        "hs_lastmodifieddate",
        (
            "name", "domain", "industry", "numberofemployees", "hubspot_owner_id", "city",
            "country", "createdate", "hs_lastmodifieddate",
        ),
        (),
    ),
}  # fmt: skip


def stamp(value: Any) -> datetime | None:
    """A HubSpot datetime, with or without milliseconds (`…:00Z`, `…:00.219Z`)."""
    if not isinstance(value, str) or not value:
        return None
    if value.isdigit():  # date-type values and some search echoes are epoch milliseconds
        return datetime.fromtimestamp(int(value) / 1000, UTC)
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


def modified_of(kind: Kind, obj: dict[str, Any]) -> datetime | None:
    props = obj.get("properties") or {}
    return stamp(props.get(kind.modified)) or stamp(obj.get("updatedAt"))


def line(kind: Kind, source: str, obj: dict[str, Any]) -> bytes:
    return orjson.dumps({"kind": kind.name, "source": source, "object": obj})


async def listed(client: HubSpotClient, kind: Kind, *, archived: bool) -> AsyncIterator[bytes]:
    """Every live (or every archived) object of a kind, `after` paging over the list endpoint."""
    params: dict[str, Any] = {
        "limit": str(client.settings.list_page_limit),
        "properties": ",".join(kind.properties),
        "archived": "true" if archived else "false",
    }
    if kind.associations and not archived:
        params["associations"] = ",".join(kind.associations)
    source = "archived" if archived else "list"
    while True:
        page = await client.get(f"/crm/v3/objects/{kind.name}", params)
        for obj in page.get("results") or []:
            if isinstance(obj, dict) and obj.get("id") is not None:
                yield line(kind, source, obj)
        after = ((page.get("paging") or {}).get("next") or {}).get("after")
        if not after:
            return
        params["after"] = str(after)


async def links(
    client: HubSpotClient, kind: Kind, ids: Sequence[str], batch: int = 1000
) -> AsyncIterator[bytes]:
    """The current associations of objects by id, through the v4 batch read (`batch` ids a
    request per associated kind): search cannot return associations, so every object an
    incremental found (new, or changed and maybe re-associated) has them read here. Each id
    gets one line `{"kind": "links", "of": <kind>, "object": {"id", "associations"}}` in the
    list endpoints' shape. An id the answer leaves out (207: listed in `errors`) has none."""
    found: dict[str, dict[str, list[str]]] = {i: {t: [] for t in kind.associations} for i in ids}
    for target in kind.associations:
        url = f"/crm/v4/associations/{kind.name}/{target}/batch/read"
        for start in range(0, len(ids), batch):
            inputs: list[dict[str, str]] = [{"id": i} for i in ids[start : start + batch]]
            while inputs:  # an object with more associations than one answer holds pages on
                page = await client.post(url, {"inputs": inputs})
                inputs = []
                for result in page.get("results") or []:
                    source = str((result.get("from") or {}).get("id", ""))
                    if source not in found:
                        continue
                    found[source][target] += [
                        str(t["toObjectId"]) for t in result.get("to") or [] if "toObjectId" in t
                    ]
                    after = ((result.get("paging") or {}).get("next") or {}).get("after")
                    if after:
                        inputs.append({"id": source, "after": str(after)})
    for object_id, targets in found.items():
        linked = {t: {"results": [{"id": i} for i in to]} for t, to in targets.items()}
        obj = {"id": object_id, "associations": linked}
        yield orjson.dumps({"kind": "links", "of": kind.name, "object": obj})


async def newest(client: HubSpotClient, kind: Kind) -> datetime | None:
    """The latest modified stamp search knows of: a backfill's starting cursor and an
    incremental's upper bound. Later changes are read by the next job (its window starts an
    overlap before this), so nothing changing during a long read is lost."""
    page = await client.search(
        kind.name,
        {
            "sorts": [{"propertyName": kind.modified, "direction": "DESCENDING"}],
            "properties": [kind.modified],
            "limit": 1,
        },
    )
    results = page.get("results") or []
    return modified_of(kind, results[0]) if results else None


async def pipelines(client: HubSpotClient) -> AsyncIterator[bytes]:
    """The deal pipelines, then the portal's account details: its company currency is the
    currency of every deal without `deal_currency_code` (single-currency portals set none)."""
    page = await client.get("/crm/v3/pipelines/deals")
    for pipeline in page.get("results") or []:
        if isinstance(pipeline, dict):
            yield orjson.dumps({"kind": "pipelines", "source": "list", "object": pipeline})
    try:
        account = await client.get("/account-info/v3/details")
    except CredentialError as err:
        if err.code != "hubspot_permission":
            raise
        return  # no access to the details: deals without a currency stay flagged
    yield orjson.dumps({"kind": "account", "source": "list", "object": account})
