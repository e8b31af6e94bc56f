"""The Litestar application: routes, Supabase JWT auth, per-request RLS transactions, problems.

`create_app` takes its settings and database explicitly, so tests and `storeline api` build the
same app; it refuses to start without a way to verify tokens.
"""

from __future__ import annotations

from litestar import Litestar
from litestar.datastructures import State
from litestar.di import Provide
from litestar.middleware import DefineMiddleware
from litestar.openapi import OpenAPIConfig
from litestar.openapi.plugins import SwaggerRenderPlugin

from storeline.api.auth import JWTMiddleware, TokenVerifier
from storeline.api.billing.guard import require_active_billing
from storeline.api.billing.sessions import Stripe
from storeline.api.billing.settings import BillingSettings, billing_settings
from storeline.api.database import lifespan, provide_db
from storeline.api.observe import PrometheusMetrics, prometheus
from storeline.api.problems import HANDLERS
from storeline.api.routes.billing import BillingController
from storeline.api.routes.health import healthz
from storeline.api.routes.me import MeController
from storeline.api.routes.metrics import MetricsController
from storeline.api.routes.platforms import PlatformController
from storeline.api.routes.shops import ShopController
from storeline.api.routes.sync import SyncController
from storeline.api.settings import ApiSettings
from storeline.core.errors import ConfigError


def create_app(
    settings: ApiSettings, *, dsn: str, billing: BillingSettings | None = None
) -> Litestar:
    verifier = TokenVerifier(settings)
    if not verifier.configured:
        raise ConfigError(
            "the API cannot verify tokens: set SUPABASE_JWT_SECRET (HS256) or "
            "STORELINE_API_JWKS_URL (the project's /auth/v1/.well-known/jwks.json)"
        )
    return Litestar(
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
            prometheus.middleware,
            DefineMiddleware(JWTMiddleware, exclude=["^/schema", "^/metrics$"]),
        ],
        guards=[require_active_billing],
        exception_handlers=HANDLERS,
        lifespan=[lifespan(dsn, max_size=settings.pool_max_size)],
        state=State({"verifier": verifier, "billing": Stripe(billing or billing_settings())}),
        openapi_config=OpenAPIConfig(
            title="Storeline API",
            version="0.1.0",
            path="/schema",
            render_plugins=[SwaggerRenderPlugin()],
        ),
    )
