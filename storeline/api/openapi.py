"""What the OpenAPI schema says about errors: every route documents its problem+json answers
(RFC 9457, storeline/api/problems.py) with their status codes, so clients and schemathesis
(tests/api/test_contract.py) hold the API to them."""

from __future__ import annotations

from typing import Any

import msgspec
from litestar.openapi.datastructures import ResponseSpec
from litestar.openapi.spec import OpenAPI
from pydantic import BaseModel

from storeline.api.problems import MEDIA_TYPE

_WHEN = {
    400: "the request is malformed: a parameter or the body breaks the schema",
    401: "no valid Supabase access token",
    402: "the agency's subscription is not active: its data stays readable, syncs do not run",
    403: "the caller's role may not do this (docs/security.md#roles)",
    404: "no such shop, platform or job for this caller",
    409: "conflicts with the current state",
    422: "well-formed but refused by a rule",
    502: "a payment provider (Stripe) refused or did not answer",
    503: "a dependency (the database, Shopify) is not answering; try again",
}


class Problem(msgspec.Struct, frozen=True, kw_only=True):
    """An RFC 9457 problem. `errors` lists the fields of a malformed request."""

    type: str
    title: str
    status: int
    detail: str | None = None
    errors: list[dict[str, Any]] | None = None


def problems(*statuses: int, auth: bool = True) -> dict[int, ResponseSpec]:
    """The problem responses of a route: 400 always, 401 when it needs a token, and `statuses`."""
    codes = sorted({400, *([401] if auth else []), *statuses})
    return {
        code: ResponseSpec(
            data_container=Problem,
            description=_WHEN[code],
            media_type=MEDIA_TYPE,
            generate_examples=False,
        )
        for code in codes
    }


def forbid_extra_properties(schema: OpenAPI, models: list[type[BaseModel]]) -> None:
    """State `additionalProperties: false` for request bodies whose model forbids extras (Litestar
    does not carry pydantic's `extra="forbid"` into the schema)."""
    components = (schema.components.schemas or {}) if schema.components else {}
    for model in models:
        if model.model_config.get("extra") == "forbid" and model.__name__ in components:
            components[model.__name__].additional_properties = False
