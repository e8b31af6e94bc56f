"""Runs every source server on its own loopback port, in-process (threads) or standalone.

Each platform package exposes `create_app(world) -> ASGI app`; they are imported lazily by name so
one broken platform cannot stop the others from starting in a focused test.
"""

from __future__ import annotations

import importlib
import socket
import threading
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import uvicorn

from sandbox.world import World

APP_FACTORIES: dict[str, str] = {
    "shopify": "sandbox.shopify.app:create_app",
    "meta": "sandbox.meta.app:create_app",
    "ga4": "sandbox.ga4.app:create_app",
    "hubspot": "sandbox.hubspot.app:create_app",
    "admin": "sandbox.admin:create_app",
}


def load_factory(name: str) -> Any:
    module, _, attr = APP_FACTORIES[name].partition(":")
    return getattr(importlib.import_module(module), attr)


@dataclass
class RunningSandbox:
    """Base URLs of the started servers; `stop()` shuts them all down."""

    world: World
    urls: dict[str, str] = field(default_factory=dict)
    _servers: list[tuple[uvicorn.Server, threading.Thread]] = field(default_factory=list)

    def stop(self) -> None:
        for server, _ in self._servers:
            server.should_exit = True
        for _, thread in self._servers:
            thread.join(timeout=10)
        self._servers.clear()


def start(
    world: World,
    platforms: Iterable[str] = APP_FACTORIES,
    *,
    host: str = "127.0.0.1",
    ports: dict[str, int] | None = None,
) -> RunningSandbox:
    """Start the named servers in background threads; ports default to free ones."""
    running = RunningSandbox(world)
    for name in platforms:
        app = load_factory(name)(world)
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        # Without it Nagle + delayed ACK add ~40 ms to every loopback request.
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        sock.bind((host, (ports or {}).get(name, 0)))
        port = sock.getsockname()[1]
        config = uvicorn.Config(app, log_level="warning", lifespan="off", access_log=False)
        server = uvicorn.Server(config)
        thread = threading.Thread(
            target=server.run, kwargs={"sockets": [sock]}, name=f"sandbox-{name}", daemon=True
        )
        thread.start()
        running._servers.append((server, thread))
        running.urls[name] = f"http://{host}:{port}"
    deadline = time.monotonic() + 10
    for server, _ in running._servers:
        while not server.started:
            if time.monotonic() > deadline:
                running.stop()
                raise RuntimeError("sandbox servers did not start within 10 s")
            time.sleep(0.01)
    return running
