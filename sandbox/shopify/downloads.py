"""`GET /bulk-files/{name}`: bulk operation result files, like Shopify's signed storage URLs.

No access token (the URL is the credential). Single `Range: bytes=N-` requests are honoured with
206, as the storage behind Shopify's URLs does, so a client can resume a broken download. A
`cut_download` fault for the file's shop sends the headers of the whole file (Content-Length)
and then drops the connection after `params["after_bytes"]` bytes, which is what a reset
connection looks like to the client: an incomplete body.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import anyio
from litestar import Request, Response, get
from litestar.handlers import HTTPRouteHandler
from litestar.params import FromPath
from litestar.response import Stream

from sandbox.faults import FaultKind, FaultRegistry
from sandbox.shopify import errors
from sandbox.shopify.bulk import BulkOperations

CHUNK = 64 * 1024
_RANGE = re.compile(r"^bytes=(\d+)-$")


class ConnectionCut(Exception):
    """Raised mid-body on purpose: the server drops the connection like a network reset."""


def bulk_file_route(bulk: BulkOperations, faults: FaultRegistry) -> HTTPRouteHandler:
    """The download route of one app's bulk files (sandbox/shopify/app.py registers it)."""

    @get("/bulk-files/{name:str}")
    async def bulk_file(
        request: Request[Any, Any, Any], name: FromPath[str]
    ) -> Response[bytes] | Stream:
        path = bulk.file(name)
        if path is None:
            return errors.not_found()
        size = path.stat().st_size
        shop_id = bulk.shop_of(name)
        short = faults.take("shopify", shop_id, FaultKind.SHORT_FILE) if shop_id else None
        if short is not None and not request.headers.get("range"):
            kept = path.read_bytes().splitlines(keepends=True)
            kept = kept[: max(len(kept) - int(short.params.get("drop_lines", 1)), 0)]
            return Response(b"".join(kept), media_type="application/jsonl")
        start, status, headers = 0, 200, {"Accept-Ranges": "bytes"}
        wanted = _RANGE.match(request.headers.get("range", "").strip())
        if wanted is not None:
            start = int(wanted.group(1))
            if start >= size:
                return Response(b"", status_code=416, headers={"Content-Range": f"bytes */{size}"})
            status = 206
            headers["Content-Range"] = f"bytes {start}-{size - 1}/{size}"
        fault = faults.take("shopify", shop_id, FaultKind.CUT_DOWNLOAD) if shop_id else None
        cut = int(fault.params.get("after_bytes", 4096)) if fault is not None else None
        headers["Content-Length"] = str(size - start)
        return Stream(
            _body(path, start, cut),
            status_code=status,
            headers=headers,
            media_type="application/jsonl",
        )

    return bulk_file


async def _body(path: Path, start: int, cut: int | None) -> AsyncIterator[bytes]:
    sent = 0
    async with await anyio.open_file(path, "rb") as handle:
        await handle.seek(start)
        while block := await handle.read(CHUNK):
            if cut is not None and sent + len(block) > cut:
                yield block[: cut - sent]
                raise ConnectionCut(f"download of {path.name} cut after {cut} bytes")
            sent += len(block)
            yield block
