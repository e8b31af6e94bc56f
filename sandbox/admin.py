"""The sandbox's own control surface: shops and credentials, the clock, faults and the oracle.

Tests and `./scripts/demo` drive the world through these routes instead of reaching into the
servers' memory, so the same calls work against an in-process sandbox and a standalone one.
Errors are RFC 9457 problem documents, like the product's API.
"""

from __future__ import annotations

import importlib
from datetime import date, timedelta
from typing import Annotated, Any

from litestar import Litestar, Response, delete, get, post
from litestar.exceptions import HTTPException
from litestar.params import FromPath, FromQuery, JSONBody, QueryParameter
from litestar.status_codes import HTTP_201_CREATED, HTTP_204_NO_CONTENT

from sandbox.faults import FaultKind
from sandbox.world import ShopProfile, World

PLATFORMS = ("shopify", "meta", "ga4", "hubspot")


def problem(status: int, title: str, detail: str) -> Response[dict[str, Any]]:
    return Response(
        {"type": "about:blank", "title": title, "status": status, "detail": detail},
        status_code=status,
        media_type="application/problem+json",
    )


def shop_document(world: World, shop: ShopProfile) -> dict[str, Any]:
    """Everything a person (or the seed script) needs to connect one shop to Storeline."""
    return {
        "shop_id": shop.shop_id,
        "name": shop.name,
        "handle": shop.handle,
        "currency": shop.currency,
        "timezone": shop.timezone,
        "history_start": world.history_start(shop).isoformat(),
        "orders_per_day": shop.orders_per_day,
        "shopify": {
            "shop_domain": shop.shop_id,
            "access_token": shop.shopify_token,
            "api_version": "2026-01",
        },
        "meta": {"ad_account_id": shop.meta_ad_account_id, "access_token": shop.meta_token},
        "ga4": {
            "property_id": shop.ga4_property_id,
            "client_id": shop.ga4_client_id,
            "client_secret": shop.ga4_client_secret,
            "refresh_token": shop.ga4_refresh_token,
        },
        "hubspot": {"portal_id": shop.hubspot_portal_id, "access_token": shop.hubspot_token},
    }


def create_app(world: World) -> Litestar:
    @get("/_sandbox/shops")
    async def shops() -> dict[str, Any]:
        return {"shops": [shop_document(world, s) for s in world.shops.values()]}

    @get("/_sandbox/clock")
    async def clock() -> dict[str, Any]:
        return {"now": world.now().isoformat(), "anchor": world.anchor.isoformat()}

    @post("/_sandbox/clock/advance", status_code=200)
    async def advance(data: JSONBody[dict[str, Any]]) -> Response[dict[str, Any]]:
        minutes = data.get("minutes")
        if isinstance(minutes, bool) or not isinstance(minutes, int | float) or minutes < 0:
            return problem(400, "Invalid clock advance", "`minutes` must be a number >= 0.")
        now = world.advance(timedelta(minutes=minutes))
        return Response({"now": now.isoformat(), "anchor": world.anchor.isoformat()})

    @post("/_sandbox/faults", status_code=HTTP_201_CREATED)
    async def inject(data: JSONBody[dict[str, Any]]) -> Response[dict[str, Any]]:
        params = dict(data)
        platform, shop_id, kind = (
            params.pop("platform", None),
            params.pop("shop_id", None),
            params.pop("kind", None),
        )
        times = params.pop("times", 1)
        if platform not in PLATFORMS:
            return problem(
                400, "Unknown platform", f"`platform` must be one of {', '.join(PLATFORMS)}."
            )
        if shop_id not in world.shops:
            return problem(404, "Unknown shop", f"No sandbox shop {shop_id!r}.")
        try:
            fault_kind = FaultKind(kind)
        except ValueError:
            kinds = ", ".join(k.value for k in FaultKind)
            return problem(400, "Unknown fault kind", f"`kind` must be one of {kinds}.")
        if times is not None and (
            isinstance(times, bool) or not isinstance(times, int) or times < 1
        ):
            return problem(
                400, "Invalid times", "`times` must be a positive integer or null (forever)."
            )
        world.faults.inject(platform, shop_id, fault_kind, times=times, **params)
        body = {
            "platform": platform,
            "shop_id": shop_id,
            "kind": fault_kind.value,
            "times": times,
            "params": params,
        }
        return Response(body, status_code=HTTP_201_CREATED)

    @delete("/_sandbox/faults", status_code=HTTP_204_NO_CONTENT)
    async def clear(
        platform: FromQuery[str | None] = None, shop_id: FromQuery[str | None] = None
    ) -> None:
        world.faults.clear(platform, shop_id)

    @get("/_sandbox/oracle/{platform:str}/{shop_id:str}")
    async def oracle(
        platform: FromPath[str],
        shop_id: FromPath[str],
        date_from: Annotated[str | None, QueryParameter(name="from")] = None,
        date_to: Annotated[str | None, QueryParameter(name="to")] = None,
    ) -> Response[Any]:
        return _oracle(world, platform, shop_id, date_from, date_to)

    return Litestar(
        [shops, clock, advance, inject, clear, oracle],
        exception_handlers={HTTPException: _http_problem},
        openapi_config=None,
    )


def _oracle(
    world: World, platform: str, shop_id: str, date_from: str | None, date_to: str | None
) -> Response[Any]:
    if platform not in PLATFORMS:
        return problem(404, "Unknown platform", f"No oracle for {platform!r}.")
    shop = world.shops.get(shop_id)
    if shop is None:
        return problem(404, "Unknown shop", f"No sandbox shop {shop_id!r}.")
    try:
        start = date.fromisoformat(date_from or "")
        end = date.fromisoformat(date_to or "")
    except ValueError:
        return problem(400, "Invalid date range", "`from` and `to` must be YYYY-MM-DD dates.")
    if end < start:
        return problem(400, "Invalid date range", "`to` must not be before `from`.")
    try:
        module = importlib.import_module(f"sandbox.{platform}.oracle")
    except ModuleNotFoundError:
        return problem(404, "Oracle not available", f"The {platform} sandbox has no oracle yet.")
    rows = module.daily(world, shop, start, end)
    # HubSpot's open pipeline is a figure of now, not of a day: it comes beside the days.
    now = {"open_by_stage": module.pipeline_now(world, shop)} if platform == "hubspot" else {}
    return Response(
        {
            "platform": platform,
            "shop_id": shop_id,
            "from": start.isoformat(),
            "to": end.isoformat(),
            "days": rows,
            **now,
        }
    )


def _http_problem(_: Any, exc: HTTPException) -> Response[dict[str, Any]]:
    return problem(
        exc.status_code, "Bad request" if exc.status_code == 400 else "Error", str(exc.detail)
    )
