"""The Meta Graph / Marketing API server: `/{version}/act_{id}`, `/{version}/act_{id}/insights`
(GET = sync, POST = async report run), `/{version}/{report_run_id}` and its `/insights`.

Every answer carries Meta's headers (`facebook-api-version`, `x-fb-trace-id`, and the usage
headers once the account has made a few calls); every error is a Graph error body. Faults for the
shop that owns the addressed ad account are consulted once per request, after the token is
validated, as Meta would fail then; `insights_timeout` faults only on synchronous insights reads,
randomly (`probability`, reproducible from `seed`) when asked to.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import itertools
import random
import re
import threading
from dataclasses import dataclass, field
from typing import Any

import orjson
from litestar import Litestar, Request, Response, get, post
from litestar.exceptions import MethodNotAllowedException, NotFoundException
from litestar.params import FromPath

from sandbox.faults import Fault, FaultKind
from sandbox.meta import errors, usage
from sandbox.meta.errors import GraphError
from sandbox.meta.insights import AccountInsights
from sandbox.meta.paging import encode_cursor
from sandbox.meta.params import parse_list
from sandbox.meta.reports import ReportRegistry, ReportRun
from sandbox.world import ShopProfile, World

LATEST_VERSION = 26
OLDEST_VERSION = 24  # Marketing API versions live about a year; older ones answer #2635
VERSION = re.compile(r"^v(\d+)\.0$")
REQUEST_FAULTS = (
    FaultKind.THROTTLE,
    FaultKind.SERVER_ERROR,
    FaultKind.SLOW,
    FaultKind.EXPIRED_TOKEN,
    FaultKind.REVOKED_TOKEN,
    FaultKind.MALFORMED,
)
MEDIA_TYPE = "application/json; charset=UTF-8"


@dataclass
class Outcome:
    """What a request resolved to, so errors still get the account's usage headers."""

    account_number: str | None = None
    forced_minutes: int | None = None
    malformed: bool = False


@dataclass
class MetaServer:
    world: World
    meter: usage.UsageMeter = field(default_factory=usage.UsageMeter)
    reports: ReportRegistry = field(default_factory=ReportRegistry)
    _traces: itertools.count[int] = field(default_factory=itertools.count)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)
    # One seeded Random per injected insights_timeout fault (kept with the fault it belongs to).
    _dice: dict[int, tuple[Fault, random.Random]] = field(default_factory=dict, repr=False)

    def trace_id(self) -> str:
        """Deterministic per request sequence, shaped like Meta's 23-character fbtrace_id."""
        with self._lock:
            n = next(self._traces)
        digest = hashlib.blake2b(f"{self.world.seed}:meta:{n}".encode(), digest_size=18).digest()
        return "A" + base64.urlsafe_b64encode(digest).decode()[:22]

    async def handle(
        self, request: Request[Any, Any, Any], method: str, version: str, node: str, edge: str
    ) -> Response[bytes]:
        trace = self.trace_id()
        outcome = Outcome()
        extra: dict[str, str] = {}
        try:
            status, body = await self._dispatch(request, method, version, node, edge, outcome)
        except GraphError as exc:
            status, body, extra = exc.status, exc.body(trace), exc.headers
            if outcome.account_number is not None:
                self.meter.record(outcome.account_number, 1)
        content = orjson.dumps(body).replace(b"/", b"\\/")  # Meta escapes slashes
        if outcome.malformed:
            content = content[: max(1, len(content) // 2)]
        headers = {
            "facebook-api-version": version if VERSION.match(version) else f"v{LATEST_VERSION}.0",
            "x-fb-trace-id": trace,
            "cache-control": "private, no-cache, no-store, must-revalidate",
            "access-control-allow-origin": "*",
            **usage.headers(
                self.meter, outcome.account_number, forced_minutes=outcome.forced_minutes
            ),
            **extra,
        }
        return Response(content, status_code=status, headers=headers, media_type=MEDIA_TYPE)

    async def _dispatch(
        self,
        request: Request[Any, Any, Any],
        method: str,
        version: str,
        node: str,
        edge: str,
        outcome: Outcome,
    ) -> tuple[int, dict[str, Any]]:
        match = VERSION.match(version)
        if match is None or int(match.group(1)) > LATEST_VERSION:
            raise errors.unknown_path(request.url.path)
        if int(match.group(1)) < OLDEST_VERSION:
            raise errors.deprecated_version(f"v{LATEST_VERSION}.0")
        params = await _params(request, method)
        token = _token(request, params)
        if not token:
            raise errors.missing_token()
        shop = self.world.shop_by_token("meta", token)
        if shop is None:
            raise errors.invalid_token()
        verb = method.lower()
        run: ReportRun | None = None
        if node.startswith("act_"):
            if node != shop.meta_ad_account_id:
                raise errors.unsupported(verb, node)
        elif node != "me":
            run = self.reports.get(node, self.world.now()) if node.isdigit() else None
            if run is None or run.shop_id != shop.shop_id:
                raise errors.unsupported(verb, node)
        outcome.account_number = shop.meta_ad_account_id.removeprefix("act_")
        await self._fault(shop, outcome)
        if method == "GET" and edge == "insights" and run is None:  # async results never time out
            self._insights_timeout(shop)
        if self.meter.percent(outcome.account_number) >= 100:
            raise errors.throttled(80000)
        body, cost = self._answer(request, method, version, node, edge, params, shop, run)
        self.meter.record(outcome.account_number, cost)
        return 200, body

    def _answer(
        self,
        request: Request[Any, Any, Any],
        method: str,
        version: str,
        node: str,
        edge: str,
        params: dict[str, str],
        shop: ShopProfile,
        run: ReportRun | None,
    ) -> tuple[dict[str, Any], int]:
        """The body for an authorized request, and its cost in usage points."""
        insights = AccountInsights.of(self.world, shop)
        origin = f"{request.url.scheme}://{request.url.netloc}"
        route = (method, edge)
        if run is not None and route == ("GET", "insights"):
            body = insights.run_page(run, params, origin, version)
            return body, 1 + len(body["data"]) // 100
        if run is not None and route == ("GET", ""):
            run.poll(self.world.now())
            return run.node(parse_list(params.get("fields"))), 1
        if run is None and node == "me":
            return self._me(insights, edge, method, params), 1
        if run is None and route == ("GET", ""):
            return insights.account_node(parse_list(params.get("fields"))), 1
        if run is None and route == ("GET", "insights"):
            body = insights.sync_page(params, origin, request.url.path)
            return body, 1 + len(body["data"]) // 100
        if run is None and route == ("POST", "insights"):
            created = insights.create_run(
                self.reports,
                params,
                lambda: (
                    self.world.faults.take("meta", shop.shop_id, FaultKind.BULK_FAILED) is not None
                ),
            )
            return {"report_run_id": created.id}, 5
        raise errors.unsupported(method.lower(), node)

    def _me(
        self, insights: AccountInsights, edge: str, method: str, params: dict[str, str]
    ) -> dict[str, Any]:
        """The token's user and the ad accounts it can read (one per sandbox shop)."""
        if method != "GET" or edge not in ("", "adaccounts"):
            raise errors.unsupported(method.lower(), "me")
        if edge == "":
            user = str(100_000_000_000_000 + int(insights.account.number))
            return {"id": user, "name": f"{insights.shop.name} Ads Admin"}
        node = insights.account_node(parse_list(params.get("fields")) or ["account_id"])
        cursor = encode_cursor(0)
        return {"data": [node], "paging": {"cursors": {"before": cursor, "after": cursor}}}

    async def _fault(self, shop: ShopProfile, outcome: Outcome) -> None:
        fault: Fault | None = self.world.faults.take("meta", shop.shop_id, *REQUEST_FAULTS)
        if fault is None:
            return
        p = fault.params
        if fault.kind is FaultKind.SLOW:
            await asyncio.sleep(float(p.get("seconds", 5)))
        elif fault.kind is FaultKind.MALFORMED:
            outcome.malformed = True
        elif fault.kind is FaultKind.THROTTLE:
            outcome.forced_minutes = int(p.get("regain_minutes", 1))
            raise errors.throttled(int(p.get("code", 80000)))
        elif fault.kind is FaultKind.SERVER_ERROR:
            code = p.get("code", 1)
            if code == "reduce_data":
                raise errors.reduce_data()
            if int(code) in errors.TIMEOUT_SUBCODES:
                raise errors.insights_timeout(int(code))
            if int(code) == 2:
                raise errors.service_unavailable(int(p.get("status", 400)))
            raise errors.unknown_error()
        elif fault.kind is FaultKind.EXPIRED_TOKEN:
            raise errors.expired_token(self.world.now())
        elif fault.kind is FaultKind.REVOKED_TOKEN:
            variant = p.get("variant", "password")
            if variant == "permission":
                raise errors.permission_denied()
            if variant == "deauthorized":
                raise errors.app_not_authorized()
            raise errors.password_changed()

    def _insights_timeout(self, shop: ShopProfile) -> None:
        """Consult an `insights_timeout` fault: with `probability` (default 1) the read fails as
        one of Meta's timeout answers, `variant` (1504018, 1504038, "reduce_data") or a seeded
        random pick of the three. `times` counts reads considered, fired or not."""
        fault = self.world.faults.take("meta", shop.shop_id, FaultKind.INSIGHTS_TIMEOUT)
        if fault is None:
            return
        seed = f"{fault.params.get('seed', self.world.seed)}:{shop.shop_id}"
        with self._lock:
            _, dice = self._dice.setdefault(id(fault), (fault, random.Random(seed)))
            fires = dice.random() < float(fault.params.get("probability", 1))
            variant = fault.params.get("variant") or dice.choice(TIMEOUT_VARIANTS)
        if not fires:
            return
        if variant == "reduce_data":
            raise errors.reduce_data()
        raise errors.insights_timeout(int(variant))


TIMEOUT_VARIANTS: tuple[int | str, ...] = (*errors.TIMEOUT_SUBCODES, "reduce_data")


async def _params(request: Request[Any, Any, Any], method: str) -> dict[str, str]:
    """Query string, then (for POST) a form or JSON body, as the Graph API merges them."""
    params = dict(request.query_params.items())
    if method == "POST":
        content_type = request.headers.get("content-type", "")
        if content_type.startswith("application/json"):
            data = await request.json()
            if isinstance(data, dict):
                params |= {
                    k: v if isinstance(v, str) else orjson.dumps(v).decode()
                    for k, v in data.items()
                }
        else:
            form = await request.form()
            params |= {k: str(v) for k, v in form.items()}
    return params


def _token(request: Request[Any, Any, Any], params: dict[str, str]) -> str | None:
    if params.get("access_token"):
        return params["access_token"]
    auth = request.headers.get("authorization", "")
    scheme, _, value = auth.partition(" ")
    if scheme.lower() in ("bearer", "oauth") and value.strip():
        return value.strip()
    return None


def create_app(world: World) -> Litestar:
    """The ASGI app `sandbox.server` runs for platform "meta"."""
    server = MetaServer(world)

    @get("/{version:str}/{node:str}")
    async def read_node(
        request: Request[Any, Any, Any], version: FromPath[str], node: FromPath[str]
    ) -> Response[bytes]:
        return await server.handle(request, "GET", version, node, "")

    @get("/{version:str}/{node:str}/{edge:str}")
    async def read_edge(
        request: Request[Any, Any, Any],
        version: FromPath[str],
        node: FromPath[str],
        edge: FromPath[str],
    ) -> Response[bytes]:
        return await _edge(request, "GET", version, node, edge)

    @post("/{version:str}/{node:str}/{edge:str}", status_code=200)
    async def create_edge(
        request: Request[Any, Any, Any],
        version: FromPath[str],
        node: FromPath[str],
        edge: FromPath[str],
    ) -> Response[bytes]:
        return await _edge(request, "POST", version, node, edge)

    async def _edge(
        request: Request[Any, Any, Any], method: str, version: str, node: str, edge: str
    ) -> Response[bytes]:
        if edge not in ("insights", "adaccounts"):
            return _graph_error(server, errors.unknown_path(request.url.path))
        return await server.handle(request, method, version, node, edge)

    def not_found(request: Request[Any, Any, Any], _: Exception) -> Response[bytes]:
        return _graph_error(server, errors.unknown_path(request.url.path))

    return Litestar(
        route_handlers=[read_node, read_edge, create_edge],
        exception_handlers={
            NotFoundException: not_found,
            MethodNotAllowedException: not_found,
        },
        openapi_config=None,
    )


def _graph_error(server: MetaServer, error: GraphError) -> Response[bytes]:
    trace = server.trace_id()
    content = orjson.dumps(error.body(trace)).replace(b"/", b"\\/")
    headers = {"x-fb-trace-id": trace, **usage.headers(server.meter, None)}
    return Response(content, status_code=error.status, headers=headers, media_type=MEDIA_TYPE)
