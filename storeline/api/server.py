"""Serving the API: uvicorn with h11, whose refusals are problems too.

Requests the HTTP parser refuses never reach the app: h11 stops at 16 KiB of unfinished headers
(431) or a malformed request line (400), and uvicorn answered those with text/plain. Here they
answer problem+json like every other error. Header blocks that do parse but exceed the same
16 KiB are refused by the app's first middleware, so the limit does not depend on how the bytes
happened to arrive.
"""

from __future__ import annotations

import sys
from http import HTTPStatus
from typing import Any

import h11
import orjson
import uvicorn
from litestar.types import (
    ASGIApp,
    HTTPResponseBodyEvent,
    HTTPResponseStartEvent,
    Receive,
    Scope,
    Send,
)
from uvicorn.protocols.http.h11_impl import H11Protocol

MAX_HEADER_BYTES = 16 * 1024
_MEDIA_TYPE = b"application/problem+json"


def problem_body(status: int, detail: str) -> bytes:
    return orjson.dumps(
        {"type": "about:blank", "title": HTTPStatus(status).phrase, "status": status,
         "detail": detail}
    )  # fmt: skip


def _detail(status: int) -> str:
    if status == 431:
        return f"the request headers are over {MAX_HEADER_BYTES // 1024} KiB"
    return "the HTTP request is malformed"


class ProblemH11Protocol(H11Protocol):
    """uvicorn's h11 protocol, answering parser refusals as problem+json with h11's status."""

    def send_400_response(self, msg: str) -> None:
        # Called from inside uvicorn's `except h11.RemoteProtocolError`: the error is current.
        error = sys.exc_info()[1]
        status = getattr(error, "error_status_hint", 400) if error is not None else 400
        body = problem_body(status, _detail(status))
        headers = [
            (b"content-type", _MEDIA_TYPE),
            (b"content-length", str(len(body)).encode()),
            (b"connection", b"close"),
        ]
        for event in (
            h11.Response(status_code=status, headers=headers, reason=HTTPStatus(status).phrase),
            h11.Data(data=body),
            h11.EndOfMessage(),
        ):
            self.transport.write(self.conn.send(event) or b"")
        self.transport.close()


def header_limit(app: ASGIApp) -> ASGIApp:
    """ASGI middleware: 431 problem when the header block exceeds MAX_HEADER_BYTES."""

    async def middleware(scope: Scope, receive: Receive, send: Send) -> None:
        size = sum(len(k) + len(v) + 4 for k, v in scope.get("headers", ()))
        if size > MAX_HEADER_BYTES and str(scope["type"]) == "http":
            body = problem_body(431, _detail(431))
            start: HTTPResponseStartEvent = {
                "type": "http.response.start",
                "status": 431,
                "headers": [
                    (b"content-type", _MEDIA_TYPE),
                    (b"content-length", str(len(body)).encode()),
                ],
            }
            await send(start)
            end: HTTPResponseBodyEvent = {
                "type": "http.response.body",
                "body": body,
                "more_body": False,
            }
            await send(end)
            return
        await app(scope, receive, send)

    return middleware


def server_config(app: Any, **options: Any) -> uvicorn.Config:
    """The uvicorn configuration `storeline api` and the tests serve with."""
    return uvicorn.Config(
        app, http=ProblemH11Protocol, h11_max_incomplete_event_size=MAX_HEADER_BYTES, **options
    )
