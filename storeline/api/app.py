"""The Litestar application: routes, Supabase JWT auth, per-request RLS transactions, problems.

`create_app` takes its settings and database explicitly, so tests and `storeline api` build the
same app; it refuses to start without a way to verify tokens.
"""

from __future__ import annotations

from typing import Any

from litestar import Litestar
from litestar.datastructures import State
from litestar.di import Provide
from litestar.middleware import DefineMiddleware
from litestar.openapi import OpenAPIConfig
from litestar.openapi.plugins import SwaggerRenderPlugin
from litestar.routes import HTTPRoute
from litestar.types import Message, Scope

from storeline.api.auth import JWTMiddleware, TokenVerifier
from storeline.api.billing.guard import require_active_billing
from storeline.api.billing.sessions import Stripe
from storeline.api.billing.settings import BillingSettings, billing_settings
from storeline.api.database import lifespan, provide_db
from storeline.api.observe import PrometheusMetrics, prometheus
from storeline.api.openapi import forbid_extra_properties
from storeline.api.problems import HANDLERS
from storeline.api.requests import BoundedJsonRequest
from storeline.api.routes.billing import BillingController
from storeline.api.routes.health import healthz
from storeline.api.routes.me import DefaultShop, MeController
from storeline.api.routes.metrics import MetricsController
from storeline.api.routes.platforms import Connection, PlatformController
from storeline.api.routes.shops import NewShop, ShopChange, ShopController
from storeline.api.routes.sync import SyncController, SyncRequest
from storeline.api.server import header_limit
from storeline.api.settings import ApiSettings
from storeline.core.errors import ConfigError
from storeline.platforms.shopify.settings import ShopifySettings, shopify_settings


def create_app(
    settings: ApiSettings,
    *,
    dsn: str,
    shopify: ShopifySettings | None = None,
    billing: BillingSettings | None = None,
) -> Litestar:
    """`shopify`: where shop registrations are proven (default: the SHOPIFY_* settings);
    `billing`: Stripe's settings (default: STRIPE_* and STORELINE_BILLING_*)."""
    verifier = TokenVerifier(settings)
    if not verifier.configured:
        raise ConfigError(
            "the API cannot verify tokens: set SUPABASE_JWT_SECRET (HS256) or "
            "STORELINE_API_JWKS_URL (the project's /auth/v1/.well-known/jwks.json)"
        )
    app = Litestar(
        route_handlers=[
            healthz,
            ShopController,
            MetricsController,
            PlatformController,
            SyncController,
            MeController,
            BillingController,
            PrometheusMetrics,
        ],
        dependencies={"db": Provide(provide_db)},
        middleware=[
            header_limit,
            prometheus.middleware,
            DefineMiddleware(JWTMiddleware, exclude=["^/schema", "^/metrics$"]),
        ],
        guards=[require_active_billing],
        exception_handlers=HANDLERS,
        lifespan=[lifespan(dsn, max_size=settings.pool_max_size)],
        state=State(
            {
                "verifier": verifier,
                "shopify": shopify or shopify_settings(),
                "billing": Stripe(billing or billing_settings()),
            }
        ),
        request_class=BoundedJsonRequest,
        openapi_config=OpenAPIConfig(
            title="Storeline API",
            version="0.1.0",
            path="/schema",
            render_plugins=[SwaggerRenderPlugin()],
        ),
    )
    app.before_send.append(_allow_header(app))
    forbid_extra_properties(
        app.openapi_schema, [DefaultShop, NewShop, ShopChange, Connection, SyncRequest]
    )
    return app


def _allow_header(app: Litestar) -> Any:
    """OPTIONS answers with every method of its path. Litestar keeps the OPTIONS handler made for
    the first handler registered at a path, whose Allow lists only that handler's methods."""
    allowed = {
        route.path: ", ".join(sorted(route.methods)).encode()
        for route in app.routes
        if isinstance(route, HTTPRoute)
    }

    async def before_send(message: Message, scope: Scope) -> None:
        if message["type"] != "http.response.start" or scope.get("method") != "OPTIONS":
            return
        handler = scope.get("route_handler")
        allow = allowed.get(next(iter(handler.paths), "")) if handler is not None else None
        if allow is not None:
            headers = [(k, v) for k, v in message.get("headers", []) if k.lower() != b"allow"]
            message["headers"] = [*headers, (b"allow", allow)]

    return before_send
