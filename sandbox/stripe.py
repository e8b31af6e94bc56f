"""A local stand-in for the two Stripe endpoints Storeline calls, over real HTTP.

`POST /v1/checkout/sessions` and `POST /v1/billing_portal/sessions` take Stripe's form encoding
(`line_items[0][price]=…`, `subscription_data[metadata][agency_id]=…`) and a
`Authorization: Bearer sk_…` key, and answer session objects shaped like Stripe's (id, object,
url, and the fields we sent) or Stripe's error envelope. Every request is kept, decoded, for
tests: `GET /_stripe/requests`. Webhooks are not sent from here: tests sign events with the
stripe library's own helper.
"""

from __future__ import annotations

import itertools
import re
import secrets
import socket
import threading
import time
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl

import uvicorn
from litestar import Litestar, Request, Response, get, post

_KEY = re.compile(r"\[([^\]]*)\]")


def decode_form(body: bytes) -> dict[str, Any]:
    """Stripe's bracket form encoding back into nested dicts and lists."""
    out: dict[str, Any] = {}
    for key, value in parse_qsl(body.decode(), keep_blank_values=True):
        head, _, _ = key.partition("[")
        path = [head, *_KEY.findall(key)]
        node: Any = out
        for part, nxt in itertools.pairwise(path):
            child_is_list = nxt.isdigit()
            if isinstance(node, list):
                index = int(part)
                while len(node) <= index:
                    node.append([] if child_is_list else {})
                node = node[index]
            else:
                node = node.setdefault(part, [] if child_is_list else {})
        last = path[-1]
        if isinstance(node, list):
            node.append(value)
        else:
            node[last] = value
    return out


def _error(status: int, kind: str, message: str, param: str | None = None) -> Response[Any]:
    body = {"error": {"type": kind, "message": message, **({"param": param} if param else {})}}
    return Response(body, status_code=status)


def create_app() -> Litestar:
    requests: list[dict[str, Any]] = []

    async def _read(request: Request[Any, Any, Any]) -> dict[str, Any] | Response[Any]:
        key = request.headers.get("authorization", "").removeprefix("Bearer ")
        if not key.startswith(("sk_", "rk_")):
            return _error(401, "invalid_request_error", "Invalid API Key provided")
        params = decode_form(await request.body())
        requests.append({"path": request.url.path, "params": params})
        return params

    @post("/v1/checkout/sessions", status_code=200)
    async def checkout(request: Request[Any, Any, Any]) -> Any:
        params = await _read(request)
        if isinstance(params, Response):
            return params
        for name in ("mode", "success_url"):
            if not params.get(name):
                return _error(
                    400, "invalid_request_error", f"Missing required param: {name}.", name
                )
        if not (params.get("line_items") or [{}])[0].get("price"):
            return _error(400, "invalid_request_error", "Missing line_items.", "line_items")
        sid = f"cs_test_{secrets.token_hex(12)}"
        return {
            "id": sid,
            "object": "checkout.session",
            "mode": params["mode"],
            "status": "open",
            "url": f"https://checkout.stripe.test/c/pay/{sid}",
            "client_reference_id": params.get("client_reference_id"),
            "customer": params.get("customer"),
            "customer_email": params.get("customer_email"),
            "metadata": params.get("metadata", {}),
            "success_url": params["success_url"],
        }

    @post("/v1/billing_portal/sessions", status_code=200)
    async def portal(request: Request[Any, Any, Any]) -> Any:
        params = await _read(request)
        if isinstance(params, Response):
            return params
        customer = params.get("customer", "")
        if not customer.startswith("cus_"):
            return _error(
                400, "invalid_request_error", f"No such customer: '{customer}'", "customer"
            )
        sid = f"bps_{secrets.token_hex(12)}"
        return {
            "id": sid,
            "object": "billing_portal.session",
            "customer": customer,
            "return_url": params.get("return_url"),
            "url": f"https://billing.stripe.test/p/session/{sid}",
        }

    @get("/_stripe/requests")
    async def seen() -> list[dict[str, Any]]:
        return requests

    return Litestar(route_handlers=[checkout, portal, seen])


@dataclass
class RunningStripe:
    url: str
    server: uvicorn.Server
    thread: threading.Thread

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=10)


def start(host: str = "127.0.0.1") -> RunningStripe:
    """Serve the stand-in on a free loopback port in a background thread."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, 0))
    config = uvicorn.Config(create_app(), log_level="warning", lifespan="off", access_log=False)
    server = uvicorn.Server(config)
    thread = threading.Thread(
        target=server.run, kwargs={"sockets": [sock]}, name="sandbox-stripe", daemon=True
    )
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        if time.monotonic() > deadline:
            server.should_exit = True
            raise RuntimeError("the Stripe stand-in did not start within 10 s")
        time.sleep(0.01)
    return RunningStripe(f"http://{host}:{sock.getsockname()[1]}", server, thread)
