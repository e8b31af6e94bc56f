"""GA4 as an ASGI app: Google's OAuth token endpoint plus Data API v1beta `runReport`.

Routes (base URL from `sandbox.server.start(world, ["ga4"]).urls["ga4"]`):
  POST /token                                       refresh_token grant (form or JSON body)
  POST /v1beta/properties/{property_id}:runReport   Bearer access token from /token
Faults (platform "ga4", keyed by shop id): throttle (params quota=<bucket>, exhaust=True to
drain that bucket until it resets and answer 429, or leave=<n> to drain it to n tokens and let
the request run), server_error (status), slow (seconds, holding a concurrent-request slot),
malformed and
expired_token hit runReport; revoked_token hits whichever endpoint comes first (invalid_grant at
/token; at runReport a 401 that also drops every access token the shop holds).
"""

from __future__ import annotations

import asyncio
import json
from typing import Any

from litestar import Litestar, Request, Response, post
from litestar.params import FromPath

from sandbox.faults import Fault, FaultKind
from sandbox.ga4 import generate, quota, report, users
from sandbox.ga4.auth import TokenError, TokenStore
from sandbox.ga4.catalog import EMPTY_THRESHOLDED, SAMPLING_EVENTS, SIGNALS, USER_METRICS
from sandbox.ga4.errors import (
    INVALID_CREDENTIALS,
    MISSING_CREDENTIALS,
    NO_PERMISSION,
    ApiError,
    api_error,
    oauth_error,
)
from sandbox.ga4.request import ReportRequest, parse
from sandbox.world import ShopProfile, World

API_FAULTS = (
    FaultKind.THROTTLE,
    FaultKind.SERVER_ERROR,
    FaultKind.SLOW,
    FaultKind.MALFORMED,
    FaultKind.EXPIRED_TOKEN,
    FaultKind.REVOKED_TOKEN,
)


class Ga4Service:
    """Shared state of one GA4 server: issued tokens and per-property quota."""

    def __init__(self, world: World) -> None:
        self.world = world
        self.tokens = TokenStore(world)
        self.quota = quota.PropertyQuota()

    async def token(self, form: dict[str, str]) -> Response[Any]:
        shop = self.tokens.client_shop(form)
        revoked = shop and self.world.faults.take("ga4", shop.shop_id, FaultKind.REVOKED_TOKEN)
        if revoked:
            return oauth_error(400, "invalid_grant", "Token has been expired or revoked.")
        try:
            return Response(self.tokens.exchange(form), media_type="application/json")
        except TokenError as exc:
            return oauth_error(exc.status, exc.error, exc.description)

    async def run_report(self, property_id: str, auth: str, raw: bytes) -> Response[Any]:
        if not auth.startswith("Bearer ") or not auth[7:].strip():
            return api_error(401, MISSING_CREDENTIALS)
        token = auth[7:].strip()
        shop = self.tokens.shop_for(token)
        if shop is None:
            return api_error(401, INVALID_CREDENTIALS)
        fault = self.world.faults.take("ga4", shop.shop_id, *API_FAULTS)
        delay = 0.0
        if fault is not None and fault.kind is FaultKind.SLOW:
            delay = float(fault.params.get("seconds", 5))  # slow while holding a request slot
        elif fault is not None:
            answer = self._fault(fault, shop, token)
            if answer is not None:
                return answer
        if property_id != shop.ga4_property_id:
            return api_error(403, NO_PERMISSION)
        try:
            body = json.loads(raw or b"{}")
            if not isinstance(body, dict):
                raise ValueError("not an object")
        except ValueError:
            return api_error(400, "Invalid JSON payload received.")
        try:
            req = parse(body, generate.local_today(self.world, shop))
            payload = await self._report(shop, req, delay)
        except ApiError as exc:
            return api_error(exc.code, exc.message)
        if fault is not None and fault.kind is FaultKind.MALFORMED:
            text = json.dumps(payload)
            return Response(text[: len(text) // 2], media_type="application/json")
        return Response(payload, media_type="application/json")

    def _fault(self, fault: Fault, shop: ShopProfile, token: str) -> Response[Any] | None:
        if fault.kind is FaultKind.THROTTLE:
            name = str(fault.params.get("quota", "tokensPerHour"))
            if fault.params.get("exhaust") or "leave" in fault.params:
                # use the bucket up for real: refused once empty, until it resets on the clock
                leave = int(fault.params.get("leave", 0))
                self.quota.exhaust(shop.ga4_property_id, self.world.now(), name, leave)
                if leave:
                    return None  # the request itself goes on and can overdraw the bucket
            return api_error(429, quota.EXHAUSTED.get(name, quota.EXHAUSTED["tokensPerHour"]))
        if fault.kind is FaultKind.SERVER_ERROR:
            self.quota.server_error(shop.ga4_property_id, self.world.now())
            status = int(fault.params.get("status", 500))
            if status == 503:
                return api_error(503, "The service is currently unavailable.")
            return api_error(500, "Internal error encountered.")
        if fault.kind is FaultKind.EXPIRED_TOKEN:
            self.tokens.forget(token)
            return api_error(401, INVALID_CREDENTIALS)
        if fault.kind is FaultKind.REVOKED_TOKEN:
            self.tokens.forget_shop(shop.shop_id)
            return api_error(401, INVALID_CREDENTIALS)
        return None  # MALFORMED: answered after the report is built

    async def _report(self, shop: ShopProfile, req: ReportRequest, delay: float) -> dict[str, Any]:
        prop = shop.ga4_property_id
        now = self.world.now()
        thresholded = shop.handle in SIGNALS and bool(USER_METRICS & set(req.metrics))
        self.quota.enter(prop)
        try:
            if delay:
                await asyncio.sleep(delay)
            self.quota.admit(prop, now)
            ranges = [
                (r.name, list(generate.tables_between(self.world, shop, r.start, r.end)))
                for r in req.ranges
            ]
            events = [sum(t.events for t in tables) for _, tables in ranges]
            sampled = any(e > SAMPLING_EVENTS for e in events)
            pool = users.property_pool(shop)
            rows = report.group(req, ranges, pool)
            days = sum((r.end - r.start).days + 1 for r in req.ranges)
            cells = sum(len(t.cells) for _, tables in ranges for t in tables)
            cost = quota.request_cost(days, cells, len(req.dimensions))
            seed = f"{self.world.seed}:{prop}:{','.join(req.dimensions)}" if sampled else None
            body, all_withheld = report.build(
                req, rows, pool, thresholded=thresholded, sample_seed=seed
            )
            self.quota.charge(prop, now, cost, thresholded)
        finally:
            self.quota.leave(prop)
        lost = any(t.lost_to_other for _, tables in ranges for t in tables)
        meta: dict[str, Any] = {}
        if lost and any(d != "date" for d in req.dimensions):
            # set from the table the report reads, whatever the filters dropped
            meta["dataLossFromOtherRow"] = True
        meta["currencyCode"] = shop.currency
        meta["timeZone"] = shop.timezone
        if all_withheld:
            meta["emptyReason"] = EMPTY_THRESHOLDED
        if thresholded:
            meta["subjectToThresholding"] = True
        if sampled:
            meta["samplingMetadatas"] = [
                {"samplesReadCount": str(min(e, SAMPLING_EVENTS)), "samplingSpaceSize": str(e)}
                for e in events
            ]
        body["metadata"] = meta
        if req.return_quota:
            body["propertyQuota"] = self.quota.report(prop, now, cost, thresholded)
        body["kind"] = "analyticsData#runReport"
        return body


def create_app(world: World) -> Litestar:
    service = Ga4Service(world)

    @post("/token", status_code=200)
    async def token(request: Request[Any, Any, Any]) -> Response[Any]:
        if request.headers.get("content-type", "").startswith("application/json"):
            data = await request.json()
            form = {str(k): str(v) for k, v in (data or {}).items()}
        else:
            form = {str(k): str(v) for k, v in (await request.form()).items()}
        return await service.token(form)

    @post("/v1beta/properties/{spec:str}", status_code=200)
    async def run_report(spec: FromPath[str], request: Request[Any, Any, Any]) -> Response[Any]:
        property_id, _, method = spec.partition(":")
        if method != "runReport":
            return api_error(404, f"Method {method or spec} not found.")
        raw = await request.body()
        return await service.run_report(property_id, request.headers.get("authorization", ""), raw)

    return Litestar([token, run_report], openapi_config=None, debug=False)
