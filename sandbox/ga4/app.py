"""GA4 as an ASGI app: Google's OAuth token endpoint plus Data API v1beta `runReport`.

Routes (base URL from `sandbox.server.start(world, ["ga4"]).urls["ga4"]`):
  POST /token                                       refresh_token grant (form or JSON body)
  POST /v1beta/properties/{property_id}:runReport   Bearer access token from /token
Faults (platform "ga4", keyed by shop id): throttle (params quota=<bucket>, exhaust=True to
drain that bucket until it resets), server_error (status), slow (seconds), malformed and
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
from sandbox.ga4 import generate, quota, report
from sandbox.ga4.auth import TokenError, TokenStore
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
        if fault is not None:
            answer = await self._fault(fault, shop, token)
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
            payload = self._report(shop, req)
        except ApiError as exc:
            return api_error(exc.code, exc.message)
        if fault is not None and fault.kind is FaultKind.MALFORMED:
            text = json.dumps(payload)
            return Response(text[: len(text) // 2], media_type="application/json")
        return Response(payload, media_type="application/json")

    async def _fault(self, fault: Fault, shop: ShopProfile, token: str) -> Response[Any] | None:
        if fault.kind is FaultKind.SLOW:
            await asyncio.sleep(float(fault.params.get("seconds", 5)))
            return None
        if fault.kind is FaultKind.THROTTLE:
            name = str(fault.params.get("quota", "tokensPerHour"))
            if fault.params.get("exhaust") and name in quota.EXHAUSTED:
                # use the bucket up for real: refused until it resets on the sandbox clock
                self.quota.exhaust(shop.ga4_property_id, self.world.now(), name)
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

    def _report(self, shop: ShopProfile, req: ReportRequest) -> dict[str, Any]:
        prop = shop.ga4_property_id
        now = self.world.now()
        self.quota.enter(prop)
        try:
            ranges = [
                (r.name, list(generate.cells_between(self.world, shop, r.start, r.end)))
                for r in req.ranges
            ]
            rows = report.group(req, ranges)
            days = sum((r.end - r.start).days + 1 for r in req.ranges)
            cost = quota.request_cost(days, sum(len(c) for _, c in ranges), len(req.dimensions))
            self.quota.charge(prop, now, cost)
            body = report.build(req, rows)
        finally:
            self.quota.leave(prop)
        body["metadata"] = {"currencyCode": shop.currency, "timeZone": shop.timezone}
        if req.return_quota:
            body["propertyQuota"] = self.quota.report(prop, now, cost)
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
