"""Google OAuth for the Data API: the refresh-token grant through authlib, as an httpx auth flow.

Every request gets a current access token: one is fetched on first use and again `leeway`
seconds before it expires, and a 401 gets one fresh token and one resend (Google drops access
tokens early, e.g. when a user changes their password). Access tokens live in this object only:
never stored, never logged, never in an error message. `invalid_grant` (refresh token revoked or
expired) and `invalid_client` are CredentialError, so the engine marks the credential
NEEDS_REAUTH; a token endpoint that is down is a `Retry` for the kit's loop.
"""

from __future__ import annotations

import asyncio
import warnings
from collections.abc import AsyncGenerator

import httpx
from authlib.integrations.base_client.errors import OAuthError

with warnings.catch_warnings():
    # authlib 1.9 announces a move to an `httpx2` package on import; its httpx client is what we
    # use and test (pinned in pyproject.toml), so the notice would only reach operators' logs.
    warnings.filterwarnings("ignore", message="The httpx module is deprecated")
    from authlib.integrations.httpx_client import AsyncOAuth2Client

from storeline.worker.errors import CredentialError
from storeline.worker.kit.http import Retry

_REAUTH = {"invalid_grant", "invalid_client", "unauthorized_client"}


class GoogleAuth(httpx.Auth):
    def __init__(
        self,
        *,
        token_url: str,
        client_id: str,
        client_secret: str,
        refresh_token: str,
        leeway: int,
        timeout: float,
    ) -> None:
        self._token_url = token_url
        self._refresh_token = refresh_token
        self._leeway = leeway
        # client_secret_post: Google takes the client in the form body as well as in Basic.
        self._oauth = AsyncOAuth2Client(
            client_id=client_id,
            client_secret=client_secret,
            token_endpoint_auth_method="client_secret_post",  # noqa: S106 - a method name
            timeout=timeout,
        )
        self._lock = asyncio.Lock()
        self._access: str | None = None
        self.refreshes = 0

    async def aclose(self) -> None:
        await self._oauth.aclose()

    async def access_token(self, *, rejected: str | None = None) -> str:
        """A current access token; a new one if the last was `rejected` or is about to expire."""
        async with self._lock:
            token = self._oauth.token
            stale = token is None or bool(token.is_expired(leeway=self._leeway))
            if self._access is None or stale or self._access == rejected:
                await self._refresh()
            assert self._access is not None
            return self._access

    async def _refresh(self) -> None:
        try:
            token = await self._oauth.refresh_token(
                self._token_url, refresh_token=self._refresh_token
            )
        except OAuthError as exc:
            if exc.error in _REAUTH:
                raise CredentialError(
                    "Google refused the GA4 refresh token: reconnect Google Analytics",
                    code="ga4_invalid_grant",
                ) from None
            raise Retry("ga4_token_error", "Google's token endpoint refused a refresh") from None
        except httpx.HTTPStatusError:
            raise Retry("ga4_token_unavailable", "Google's token endpoint is unavailable") from None
        except httpx.TransportError:
            raise Retry(
                "ga4_token_unavailable", "could not reach Google's token endpoint"
            ) from None
        access = token.get("access_token") if isinstance(token, dict) else None
        if not isinstance(access, str) or not access:
            raise Retry("ga4_token_malformed", "Google's token endpoint sent no access token")
        self._access = access
        self.refreshes += 1

    async def async_auth_flow(
        self, request: httpx.Request
    ) -> AsyncGenerator[httpx.Request, httpx.Response]:
        token = await self.access_token()
        request.headers["Authorization"] = f"Bearer {token}"
        response = yield request
        if response.status_code == 401:
            token = await self.access_token(rejected=token)
            request.headers["Authorization"] = f"Bearer {token}"
            yield request
