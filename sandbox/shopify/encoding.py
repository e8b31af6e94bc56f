"""How Shopify spells values on the wire: gids, opaque cursors, Decimal amounts, timestamps."""

from __future__ import annotations

import base64
from datetime import UTC, datetime
from decimal import Decimal

import orjson


def gid(type_name: str, object_id: int | str) -> str:
    return f"gid://shopify/{type_name}/{object_id}"


def parse_gid(value: str) -> tuple[str, int] | None:
    """`gid://shopify/Order/12` -> ("Order", 12); None for anything else (never raises)."""
    prefix = "gid://shopify/"
    if not value.startswith(prefix):
        return None
    type_name, _, raw = value[len(prefix) :].partition("/")
    raw = raw.split("?", 1)[0]
    if not type_name or not raw.isdigit():
        return None
    return type_name, int(raw)


def money(amount: Decimal) -> str:
    """Shopify's Decimal scalar: no trailing zeros but at least one decimal ("10.0", "12.3")."""
    text = format(amount.normalize(), "f")
    if "." not in text:
        text += ".0"
    return text


def timestamp(value: datetime | None) -> str | None:
    """DateTime scalar: ISO 8601 in UTC with a Z, second precision, like the Admin API."""
    if value is None:
        return None
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def encode_cursor(payload: dict[str, object]) -> str:
    """Opaque cursors (base64 JSON) so clients cannot depend on their contents."""
    return base64.urlsafe_b64encode(orjson.dumps(payload)).decode().rstrip("=")


def decode_cursor(cursor: str) -> dict[str, object] | None:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        value = orjson.loads(raw)
    except (ValueError, orjson.JSONDecodeError):
        return None
    return value if isinstance(value, dict) else None
