"""HubSpot CRM v3 as an ASGI app, authenticated by a private-app Bearer token per portal.

Routes (base URL from `sandbox.server.start(world, ["hubspot"]).urls["hubspot"]`):
  GET  /crm/v3/objects/{deals|contacts|companies}          limit<=100, after, properties,
                                                            archived, associations
  GET  /crm/v3/objects/{type}/{id}                          properties, archived, associations
  POST /crm/v3/objects/{type}/search                        filterGroups, sorts, limit<=200, after
  GET  /crm/v3/pipelines/deals                              pipelines with ordered stages
  POST /crm/v4/associations/{type}/{to}/batch/read          inputs [{id}] <= 1000; 207 when
                                                            some have none (`errors`)
  GET  /account-info/v3/details                             company currency, time zone
  POST /oauth/v1/token                                      refresh_token grant (form body)
Faults (platform "hubspot", keyed by shop id): throttle (429 + Retry-After, params retry_after,
policy, shape: grouped | plain | categorised), server_error (params status), slow (params
seconds), expired_token, revoked_token, malformed.
"""

from __future__ import annotations

import asyncio
import json
from datetime import timedelta
from typing import Any
from zoneinfo import ZoneInfo

from litestar import Litestar, Request, Response, get, post
from litestar.params import FromPath

from sandbox.faults import Fault, FaultKind
from sandbox.hubspot import records
from sandbox.hubspot.catalog import EXTRA_CURRENCIES, KINDS
from sandbox.hubspot.errors import (
    AUTH_MISSING,
    Correlator,
    HubSpotError,
    RateCounter,
    rate_limited,
)
from sandbox.hubspot.errors import error_response as render
from sandbox.hubspot.generate import plan
from sandbox.hubspot.oauth import GrantError, TokenMint
from sandbox.hubspot.pipelines import pipelines_payload
from sandbox.hubspot.search import Searcher, validate
from sandbox.world import ShopProfile, World

FAULTS = (
    FaultKind.THROTTLE,
    FaultKind.SERVER_ERROR,
    FaultKind.SLOW,
    FaultKind.MALFORMED,
    FaultKind.EXPIRED_TOKEN,
    FaultKind.REVOKED_TOKEN,
)
LIST_MAX = 100
BATCH_MAX = 1000  # inputs per associations batch read (sandbox's bound; see the docs page)
SINGULAR_KIND = {"deals": "deal", "contacts": "contact", "companies": "company"}
# HubSpot-defined association type ids: deal→contact 3, deal→company 5, contact→company 1.
TYPE_IDS = {("deals", "contacts"): 3, ("deals", "companies"): 5, ("contacts", "companies"): 1}


def _csv(values: list[str]) -> list[str]:
    return [part.strip() for v in values for part in v.split(",") if part.strip()]


def _flag(value: str | None) -> bool:
    return (value or "false").lower() == "true"


class HubSpotService:
    def __init__(self, world: World) -> None:
        self.world = world
        self.correlator = Correlator(world.seed)
        self.rates = RateCounter()
        self.searcher = Searcher()
        self.mint = TokenMint(world)

    def _shop(self, request: Request[Any, Any, Any]) -> ShopProfile:
        auth = request.headers.get("authorization", "")
        token = auth[7:].strip() if auth.startswith("Bearer ") else ""
        shop = self.world.shop_by_token("hubspot", token) or self.mint.shop_of(token)
        if shop is None:
            raise HubSpotError(401, AUTH_MISSING, "INVALID_AUTHENTICATION")
        return shop

    async def handle(
        self, request: Request[Any, Any, Any], search: bool, work: Any
    ) -> Response[Any]:
        """Auth, faults, then `work(shop)`; errors rendered HubSpot-style."""
        try:
            shop = self._shop(request)
        except HubSpotError as err:
            return render(self.correlator, err)
        headers = {} if search else self.rates.headers(shop.hubspot_portal_id, self._day())
        fault = self.world.faults.take("hubspot", shop.shop_id, *FAULTS)
        if fault is not None and fault.kind is FaultKind.SLOW:
            await asyncio.sleep(float(fault.params.get("seconds", 5)))
        elif fault is not None and fault.kind is not FaultKind.MALFORMED:
            return self._fault(fault, shop, search, headers)
        try:
            body = work(shop)
        except HubSpotError as err:
            return render(self.correlator, err, headers)
        if fault is not None and fault.kind is FaultKind.MALFORMED:
            text = json.dumps(body)
            return Response(text[: len(text) // 2], headers=headers, media_type="application/json")
        return Response(body, headers=headers, media_type="application/json")

    def _day(self) -> str:
        return self.world.now().date().isoformat()

    def _fault(
        self, fault: Fault, shop: ShopProfile, search: bool, headers: dict[str, str]
    ) -> Response[Any]:
        if fault.kind is FaultKind.THROTTLE:
            policy = str(
                fault.params.get("policy", "SECONDLY" if search else "TEN_SECONDLY_ROLLING")
            )
            retry = str(fault.params.get("retry_after", 1))
            limited = {**headers, "Retry-After": retry}
            if headers:
                limited["X-HubSpot-RateLimit-Remaining"] = "0"
            shape = fault.params.get("shape")
            return rate_limited(
                self.correlator,
                shop.hubspot_portal_id,
                policy,
                limited,
                str(shape) if shape is not None else None,
            )
        if fault.kind is FaultKind.SERVER_ERROR:
            status = int(fault.params.get("status", 500))
            if status >= 502:
                html = f"<html><body><h1>{status} Server Error</h1></body></html>"
                return Response(html, status_code=status, media_type="text/html")
            return render(
                self.correlator, HubSpotError(500, "internal error", "INTERNAL_ERROR"), headers
            )
        if fault.kind is FaultKind.EXPIRED_TOKEN:
            err = HubSpotError(
                401,
                "The OAuth token used to make this call expired 1 hour(s) ago.",
                "EXPIRED_AUTHENTICATION",
            )
            return render(self.correlator, err, headers)
        return render(  # REVOKED_TOKEN: the private app was deleted or its token rotated
            self.correlator, HubSpotError(401, AUTH_MISSING, "INVALID_AUTHENTICATION"), headers
        )

    def list_objects(
        self, shop: ShopProfile, kind: str, query: dict[str, list[str]], base: str
    ) -> dict[str, Any]:
        try:
            limit = min(int((query.get("limit") or ["10"])[0]), LIST_MAX)
            after = (query.get("after") or [""])[0]
        except ValueError:
            raise HubSpotError(400, "limit must be an integer.", "VALIDATION_ERROR") from None
        start = records.index_of(kind, after) if after else 0
        if start is None:
            raise HubSpotError(400, f"Invalid paging cursor after={after}.", "VALIDATION_ERROR")
        archived = _flag(next(iter(query.get("archived") or []), None))
        names = _csv(query.get("properties", [])) or None
        links = _csv(query.get("associations", []))
        count = records.exists_count(self.world, shop, kind)
        results: list[dict[str, Any]] = []
        index = start
        while index < count and len(results) < max(limit, 1):
            st = records.load(self.world, shop, kind, index)
            index += 1
            if st is not None and st.archived == archived:
                results.append(records.to_json(self.world, shop, st, names, links))
        out: dict[str, Any] = {"results": results}
        if len(results) == limit and index < count:
            cursor = str(KINDS[kind].id_base + index)
            out["paging"] = {
                "next": {"after": cursor, "link": f"{base}/crm/v3/objects/{kind}?after={cursor}"}
            }
        return out

    def get_object(
        self, shop: ShopProfile, kind: str, object_id: str, query: dict[str, list[str]]
    ) -> dict[str, Any]:
        index = records.index_of(kind, object_id)
        st = None
        if index is not None and index < records.exists_count(self.world, shop, kind):
            st = records.load(self.world, shop, kind, index)
        archived = _flag(next(iter(query.get("archived") or []), None))
        if st is None or st.archived != archived:
            raise HubSpotError(
                404,
                "Object not found.  objectId are usually numeric.",
                "OBJECT_NOT_FOUND",
                context={"id": [object_id]},
            )
        names = _csv(query.get("properties", [])) or None
        links = _csv(query.get("associations", []))
        return records.to_json(self.world, shop, st, names, links)

    def batch_links(
        self, shop: ShopProfile, kind: str, target: str, body: dict[str, Any]
    ) -> tuple[int, dict[str, Any]]:
        """`POST /crm/v4/associations/{kind}/{target}/batch/read`: each input's live associated
        ids of `target`. An input with none (or unknown, or archived) is not in `results` but in
        `errors`, and then the answer is 207 Multi-Status."""
        inputs = body.get("inputs")
        if not isinstance(inputs, list) or len(inputs) > BATCH_MAX:
            raise HubSpotError(
                400, f"inputs must be a list of at most {BATCH_MAX} ids.", "VALIDATION_ERROR"
            )
        results: list[dict[str, Any]] = []
        missing: list[str] = []
        count = records.exists_count(self.world, shop, kind)
        for item in inputs:
            object_id = str((item or {}).get("id", "")) if isinstance(item, dict) else ""
            index = records.index_of(kind, object_id)
            known = index is not None and index < count
            st = (
                records.load(self.world, shop, kind, index) if known and index is not None else None
            )
            if st is None or st.archived:
                missing.append(object_id)
                continue
            linked = records.to_json(self.world, shop, st, [], [target]).get("associations", {})
            to = [
                {
                    "toObjectId": int(a["id"]),
                    "associationTypes": [
                        {
                            "category": "HUBSPOT_DEFINED",
                            "typeId": TYPE_IDS.get((kind, target), 1),
                            "label": None,
                        }
                    ],
                }
                for a in linked.get(target, {}).get("results", [])
            ]
            if to:
                results.append({"from": {"id": object_id}, "to": to})
            else:
                missing.append(object_id)
        now = self.world.now().isoformat().replace("+00:00", "Z")
        out: dict[str, Any] = {
            "status": "COMPLETE", "results": results, "startedAt": now, "completedAt": now,
        }  # fmt: skip
        if not missing:
            return 200, out
        out["numErrors"] = len(missing)
        out["errors"] = [
            {
                "status": "error",
                "category": "OBJECT_NOT_FOUND",
                "subCategory": "crm.associations.NO_ASSOCIATIONS_FOUND",
                "message": f"No {target} is associated with {SINGULAR_KIND[kind]} {object_id}.",
                "context": {"fromObjectId": [object_id]},
            }
            for object_id in missing
        ]
        return 207, out

    def search(self, shop: ShopProfile, kind: str, body: dict[str, Any]) -> dict[str, Any]:
        _, limit, after = validate(body)
        found = self.searcher.matches(self.world, shop, kind, body)
        names = [str(p) for p in body.get("properties") or []] or None
        page = found[after : after + limit]
        results = []
        now, lag = self.world.now(), shop.hubspot_search_lag_seconds
        for index in page:
            # Matched on the index's copy, answered from the record as it is now (unless it has
            # been archived since, which the index has not heard of yet).
            life = plan(self.world, shop, kind, index)
            st = records.state_at(life, now)
            if st is None or st.archived:
                st = records.indexed_state(life, now, lag)
            if st is not None:
                results.append(records.to_json(self.world, shop, st, names))
        out: dict[str, Any] = {"total": len(found), "results": results}
        if after + len(page) < len(found):
            cursor = str(after + len(page))
            out["paging"] = {"next": {"after": cursor, "link": f"?after={cursor}"}}
        return out


def account_details(world: World, shop: ShopProfile) -> dict[str, Any]:
    """The portal's settings (`GET /account-info/v3/details`): its company currency is the
    shop's; a multi-currency portal lists its additional currencies."""
    extra = EXTRA_CURRENCIES.get(shop.currency)
    offset = world.now().astimezone(ZoneInfo(shop.timezone)).utcoffset() or timedelta(0)
    minutes = int(offset.total_seconds()) // 60
    sign, hours = "-" if minutes < 0 else "+", divmod(abs(minutes), 60)
    return {
        "portalId": int(shop.hubspot_portal_id),
        "accountType": "STANDARD",
        "timeZone": shop.timezone,
        "companyCurrency": shop.currency,
        "additionalCurrencies": [extra[0]] if extra else [],
        "utcOffset": f"{sign}{hours[0]:02d}:{hours[1]:02d}",
        "utcOffsetMilliseconds": minutes * 60_000,
        "uiDomain": "app.hubspot.com",
        "dataHostingLocation": "na1",
    }


def _kind(object_type: str) -> str:
    if object_type not in KINDS:
        raise HubSpotError(
            400, f"Unable to infer object type from: {object_type}", "VALIDATION_ERROR"
        )
    return object_type


def create_app(world: World) -> Litestar:
    service = HubSpotService(world)

    def base_of(request: Request[Any, Any, Any]) -> str:
        return str(request.base_url).rstrip("/")

    @get("/crm/v3/objects/{object_type:str}")
    async def list_objects(
        object_type: FromPath[str], request: Request[Any, Any, Any]
    ) -> Response[Any]:
        query = {k: request.query_params.getall(k) for k in request.query_params}
        return await service.handle(
            request,
            False,
            lambda shop: service.list_objects(shop, _kind(object_type), query, base_of(request)),
        )

    @get("/crm/v3/objects/{object_type:str}/{object_id:str}")
    async def get_object(
        object_type: FromPath[str], object_id: FromPath[str], request: Request[Any, Any, Any]
    ) -> Response[Any]:
        query = {k: request.query_params.getall(k) for k in request.query_params}
        return await service.handle(
            request,
            False,
            lambda shop: service.get_object(shop, _kind(object_type), object_id, query),
        )

    @post("/crm/v3/objects/{object_type:str}/search", status_code=200)
    async def search(object_type: FromPath[str], request: Request[Any, Any, Any]) -> Response[Any]:
        raw = await request.body()

        def work(shop: ShopProfile) -> dict[str, Any]:
            try:
                body = json.loads(raw or b"{}")
            except ValueError:
                raise HubSpotError(400, "Invalid input JSON.", "VALIDATION_ERROR") from None
            return service.search(shop, _kind(object_type), body)

        return await service.handle(request, True, work)

    @get("/crm/v3/pipelines/{object_type:str}")
    async def pipelines(
        object_type: FromPath[str], request: Request[Any, Any, Any]
    ) -> Response[Any]:
        def work(shop: ShopProfile) -> dict[str, Any]:
            if object_type != "deals":
                raise HubSpotError(400, f"Unknown object type {object_type}.", "VALIDATION_ERROR")
            return pipelines_payload(world, shop)

        return await service.handle(request, False, work)

    @post("/crm/v4/associations/{object_type:str}/{target_type:str}/batch/read", status_code=200)
    async def batch_links(
        object_type: FromPath[str], target_type: FromPath[str], request: Request[Any, Any, Any]
    ) -> Response[Any]:
        raw = await request.body()
        status = 200

        def work(shop: ShopProfile) -> dict[str, Any]:
            nonlocal status
            try:
                body = json.loads(raw or b"{}")
            except ValueError:
                raise HubSpotError(400, "Invalid input JSON.", "VALIDATION_ERROR") from None
            status, out = service.batch_links(
                shop, _kind(object_type), _kind(target_type), body if isinstance(body, dict) else {}
            )
            return out

        response = await service.handle(request, False, work)
        if response.status_code not in (None, 200) or status == 200:
            return response
        return Response(
            response.content,
            status_code=status,
            headers=dict(response.headers),
            media_type="application/json",
        )

    @get("/account-info/v3/details")
    async def account(request: Request[Any, Any, Any]) -> Response[Any]:
        return await service.handle(request, False, lambda shop: account_details(world, shop))

    @post("/oauth/v1/token", status_code=200)
    async def token(request: Request[Any, Any, Any]) -> Response[Any]:
        form = {k: str(v) for k, v in (await request.form()).items()}
        try:
            return Response(service.mint.grant(form), media_type="application/json")
        except GrantError as err:
            body = {
                "status": err.status,
                "message": err.message,
                "correlationId": service.correlator.next(),
            }
            return Response(body, status_code=400, media_type="application/json")

    return Litestar(
        [list_objects, get_object, search, pipelines, batch_links, account, token],
        openapi_config=None,
        debug=False,
    )
