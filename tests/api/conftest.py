"""The API served by uvicorn on a loopback port (a thread per test), over a fresh database with
two agencies, and Supabase-style tokens signed with the test secret.

- `api`: an httpx.AsyncClient whose base URL is the running API;
- `token(user, **claims)`: a signed access token for a user (claims override the defaults);
- `A_OWNER`, `A_STAFF`, `A_STORE`, `B_OWNER`: the users of tenants.sql.
"""

from __future__ import annotations

import socket
import threading
import time
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import jwt
import pytest
import uvicorn

from storeline.api.app import create_app
from storeline.api.server import server_config
from storeline.api.settings import ApiSettings
from storeline.core import credentials
from storeline.core.enums import Platform
from storeline.platforms.shopify.settings import ShopifySettings

SECRET = "test-jwt-secret-with-at-least-32-bytes!!"
A_OWNER = uuid.UUID("00000000-0000-0000-0000-00000000000a")
A_STAFF = uuid.UUID("00000000-0000-0000-0000-0000000000a2")
A_STORE = uuid.UUID("00000000-0000-0000-0000-0000000000a3")
B_OWNER = uuid.UUID("00000000-0000-0000-0000-00000000000b")

Token = Callable[..., str]


def sign(user: uuid.UUID, *, secret: str = SECRET, **claims: Any) -> str:
    now = int(time.time())
    body: dict[str, Any] = {
        "sub": str(user),
        "aud": "authenticated",
        "role": "authenticated",
        "iat": now,
        "exp": now + 3600,
        "email": f"{user}@test",
    }
    body.update(claims)
    return jwt.encode({k: v for k, v in body.items() if v is not None}, secret, algorithm="HS256")


@pytest.fixture
def token() -> Token:
    return sign


@pytest.fixture
async def tenants(conn: asyncpg.Connection) -> asyncpg.Connection:
    await conn.execute((Path(__file__).parent / "tenants.sql").read_text())
    for shop in ("a1.myshopify.com", "b1.myshopify.com"):
        await credentials.save(
            conn,
            shop_id=shop,
            platform=Platform.SHOPIFY,
            secrets={"access_token": f"shpat_secret_{shop}"},
            metadata={},
        )
    return conn


class ServedApi:
    def __init__(self, app: Any) -> None:
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(("127.0.0.1", 0))
        self.url = f"http://127.0.0.1:{sock.getsockname()[1]}"
        config = server_config(app, log_level="warning", access_log=False, lifespan="on")
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(
            target=self.server.run, kwargs={"sockets": [sock]}, daemon=True
        )
        self.thread.start()
        deadline = time.monotonic() + 10
        while not self.server.started:
            if time.monotonic() > deadline or not self.thread.is_alive():
                raise RuntimeError("the API did not start")
            time.sleep(0.01)

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=10)


@pytest.fixture
def serve(db_dsn: str) -> Iterator[Callable[..., str]]:
    """Start the API with the given settings over the test's database; returns its URL.
    `shopify`: the Shopify settings registrations are proven with (e.g. the sandbox's)."""
    running: list[ServedApi] = []

    def start(settings: ApiSettings, shopify: ShopifySettings | None = None) -> str:
        served = ServedApi(create_app(settings, dsn=db_dsn, shopify=shopify))
        running.append(served)
        return served.url

    yield start
    for served in running:
        served.stop()


@pytest.fixture
async def api(
    tenants: asyncpg.Connection, serve: Callable[..., str]
) -> AsyncIterator[httpx.AsyncClient]:
    url = serve(ApiSettings(jwt_secret=SECRET))
    async with httpx.AsyncClient(base_url=url, timeout=10) as client:
        yield client
