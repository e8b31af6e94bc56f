"""HubSpot's OAuth refresh-token grant, `POST /oauth/v1/token`, for portals connected through a
public (OAuth) app instead of a private app's token.

Each shop's app client and refresh token derive from its handle, like every other sandbox secret.
A grant answers `{"token_type": "bearer", "refresh_token", "access_token", "expires_in": 1800}`
(HubSpot's refresh tokens do not rotate: the same one comes back); the access token it mints is
accepted by every CRM route. A wrong refresh token or client answers 400 with HubSpot's OAuth
error body, `{"status": "BAD_REFRESH_TOKEN" | "BAD_CLIENT_ID" | …, "message", "correlationId"}`.
"""

from __future__ import annotations

import hashlib
import threading
from dataclasses import dataclass, field
from typing import Any

from sandbox.world import ShopProfile, World

EXPIRES_IN = 1800


@dataclass(frozen=True)
class OAuthApp:
    client_id: str
    client_secret: str
    refresh_token: str


def oauth_app(shop: ShopProfile) -> OAuthApp:
    handle = shop.handle
    return OAuthApp(
        client_id=f"hubspot-app-{handle}",
        client_secret=f"hubspot-secret-{handle}",
        refresh_token=f"na1-sandbox-refresh-{handle}",
    )


class GrantError(Exception):
    def __init__(self, status: str, message: str) -> None:
        super().__init__(message)
        self.status, self.message = status, message


@dataclass
class TokenMint:
    """Access tokens minted by grants, and how many grants each shop made (tests read it)."""

    world: World
    _tokens: dict[str, str] = field(default_factory=dict)
    grants: dict[str, int] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def grant(self, form: dict[str, str]) -> dict[str, Any]:
        if form.get("grant_type") != "refresh_token":
            raise GrantError("BAD_GRANT_TYPE", "grant_type must be refresh_token")
        shop = next(
            (
                s
                for s in self.world.shops.values()
                if oauth_app(s).client_id == form.get("client_id")
            ),
            None,
        )
        if shop is None or oauth_app(shop).client_secret != form.get("client_secret"):
            raise GrantError("BAD_CLIENT_ID", "missing or invalid client_id or client_secret")
        app = oauth_app(shop)
        if form.get("refresh_token") != app.refresh_token:
            raise GrantError("BAD_REFRESH_TOKEN", "missing or unknown refresh token")
        with self._lock:
            count = self.grants.get(shop.shop_id, 0) + 1
            self.grants[shop.shop_id] = count
            digest = hashlib.sha256(f"{self.world.seed}:{shop.shop_id}:{count}".encode())
            token = f"COa-sandbox-{digest.hexdigest()[:40]}"
            self._tokens[token] = shop.shop_id
        return {
            "token_type": "bearer",
            "refresh_token": app.refresh_token,
            "access_token": token,
            "expires_in": EXPIRES_IN,
        }

    def shop_of(self, token: str) -> ShopProfile | None:
        with self._lock:
            shop_id = self._tokens.get(token)
        return self.world.shops.get(shop_id) if shop_id else None
