"""The bulk-file download route on its own loopback server: whole files, `Range: bytes=N-`
resumes (206 / 416), and the `cut_download` fault (full Content-Length, then a dropped
connection after N bytes, once)."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator

import httpx
import pytest
import uvicorn
from litestar import Litestar

from sandbox.faults import FaultKind
from sandbox.shopify.bulk import BulkOperations
from sandbox.shopify.downloads import bulk_file_route
from sandbox.world import World

SHOP = "aurora-goods.myshopify.com"
QUERY = "{ customers { edges { node { id email } } } }"


@pytest.fixture
def served() -> Iterator[tuple[World, str, bytes]]:
    """(world, URL of a finished customers file, its bytes) behind a loopback server."""
    world = World.build()
    bulk = BulkOperations(world)
    created = bulk.submit(world.shops[SHOP], QUERY, group_objects=False, base_url="")
    op_id = int(created["bulkOperation"]["id"].rsplit("/", 1)[1])
    deadline = time.monotonic() + 10
    while (view := bulk.view(world.shops[SHOP], op_id, ""))["status"] != "COMPLETED":
        assert time.monotonic() < deadline, view
        time.sleep(0.05)
    name = view["url"].rsplit("/", 1)[1]
    path = bulk.file(name)
    assert path is not None
    app = Litestar([bulk_file_route(bulk, world.faults)], openapi_config=None)
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    server = uvicorn.Server(uvicorn.Config(app, log_level="critical", lifespan="off"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    while not server.started:
        time.sleep(0.01)
    yield world, f"http://127.0.0.1:{sock.getsockname()[1]}/bulk-files/{name}", path.read_bytes()
    server.should_exit = True
    thread.join(timeout=5)


def test_whole_file_and_ranges(served: tuple[World, str, bytes]) -> None:
    _, url, content = served
    assert len(content) > 5000
    whole = httpx.get(url)
    assert (whole.status_code, whole.content) == (200, content)
    assert whole.headers["accept-ranges"] == "bytes"
    tail = httpx.get(url, headers={"Range": "bytes=1000-"})
    assert (tail.status_code, tail.content) == (206, content[1000:])
    assert tail.headers["content-range"] == f"bytes 1000-{len(content) - 1}/{len(content)}"
    beyond = httpx.get(url, headers={"Range": f"bytes={len(content)}-"})
    assert beyond.status_code == 416
    assert httpx.get(url.rsplit("/", 1)[0] + "/nope.jsonl").status_code == 404


def _read_into(response: httpx.Response, received: bytearray) -> None:
    for chunk in response.iter_bytes():
        received += chunk


def test_a_cut_download_is_an_incomplete_body_once(served: tuple[World, str, bytes]) -> None:
    world, url, content = served
    world.faults.inject("shopify", SHOP, FaultKind.CUT_DOWNLOAD, after_bytes=3000)
    received = bytearray()
    with httpx.stream("GET", url) as response:
        assert response.headers["content-length"] == str(len(content))
        with pytest.raises(httpx.RemoteProtocolError):
            _read_into(response, received)
    assert bytes(received) == content[: len(received)]
    assert len(received) <= 3000
    assert httpx.get(url).content == content  # the fault fired once
