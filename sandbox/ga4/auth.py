"""The OAuth2 refresh-token grant, as Google's token endpoint answers it.

Access tokens are opaque and short-lived: one expires when *either* 3599 s of wall time or 3599 s
of sandbox time have passed, so a test can expire a token by advancing the sandbox clock, and a
long-running demo expires them for real. Token strings come from a counter, not from entropy, so
the same request sequence yields the same bytes.
"""

from __future__ import annotations

import hashlib
import threading
import time
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sandbox.world import ShopProfile, World

ACCESS_TOKEN_TTL = 3599
SCOPE = "https://www.googleapis.com/auth/analytics.readonly"


@dataclass(frozen=True)
class Grant:
    shop_id: str
    issued_wall: float
    issued_sandbox: datetime


class TokenError(Exception):
    """A token-endpoint refusal: HTTP status, OAuth error code and Google's description."""

    def __init__(self, status: int, error: str, description: str) -> None:
        super().__init__(description)
        self.status = status
        self.error = error
        self.description = description


@dataclass
class TokenStore:
    world: World
    _grants: dict[str, Grant] = field(default_factory=dict)
    _issued: int = 0
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def client_shop(self, form: dict[str, str]) -> ShopProfile | None:
        """The shop a token request is about (by client id), for fault lookup."""
        for shop in self.world.shops.values():
            if shop.ga4_client_id == form.get("client_id"):
                return shop
        return None

    def exchange(self, form: dict[str, str]) -> dict[str, object]:
        """Validate a refresh_token grant and mint an access token (or raise TokenError)."""
        grant_type = form.get("grant_type", "")
        if not grant_type:
            raise TokenError(400, "invalid_request", "Missing required parameter: grant_type")
        if grant_type != "refresh_token":
            raise TokenError(400, "unsupported_grant_type", f"Invalid grant_type: {grant_type}")
        for name in ("client_id", "refresh_token"):
            if not form.get(name):
                raise TokenError(400, "invalid_request", f"Missing required parameter: {name}")
        shop = self.client_shop(form)
        if shop is None:
            raise TokenError(401, "invalid_client", "The OAuth client was not found.")
        if form.get("client_secret") != shop.ga4_client_secret:
            raise TokenError(401, "invalid_client", "Unauthorized")
        if form["refresh_token"] != shop.ga4_refresh_token:
            raise TokenError(400, "invalid_grant", "Bad Request")
        return {
            "access_token": self._mint(shop),
            "expires_in": ACCESS_TOKEN_TTL,
            "scope": SCOPE,
            "token_type": "Bearer",
        }

    def _mint(self, shop: ShopProfile) -> str:
        with self._lock:
            self._issued += 1
            digest = hashlib.sha256(
                f"{self.world.seed}:{shop.shop_id}:{self._issued}".encode()
            ).hexdigest()
            token = f"ya29.a0sandbox{digest[:40]}"
            self._grants[token] = Grant(shop.shop_id, time.monotonic(), self.world.now())
            return token

    def shop_for(self, token: str) -> ShopProfile | None:
        """The shop an unexpired access token was issued for; None if unknown or expired."""
        with self._lock:
            grant = self._grants.get(token)
        if grant is None:
            return None
        ttl = timedelta(seconds=ACCESS_TOKEN_TTL)
        if (
            time.monotonic() - grant.issued_wall >= ACCESS_TOKEN_TTL
            or self.world.now() - grant.issued_sandbox >= ttl
        ):
            return None
        return self.world.shops.get(grant.shop_id)

    def forget(self, token: str) -> None:
        """Invalidate one access token (an expiry the client must answer by refreshing)."""
        with self._lock:
            self._grants.pop(token, None)

    def forget_shop(self, shop_id: str) -> None:
        """Invalidate every access token a shop holds (access revoked)."""
        with self._lock:
            for token in [t for t, g in self._grants.items() if g.shop_id == shop_id]:
                del self._grants[token]
