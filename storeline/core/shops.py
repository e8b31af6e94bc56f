"""Shop identity: a shop's id is its normalized myshopify domain."""

from __future__ import annotations

import re
from urllib.parse import urlsplit

_HANDLE = re.compile(r"[a-z0-9][a-z0-9-]{0,99}")
# A normalized shop id, as the API's schema states it (app_dashboard.shops checks the same).
SHOP_DOMAIN_PATTERN = r"^[a-z0-9][a-z0-9-]{0,99}\.myshopify\.com$"


def normalize_shop_domain(value: str) -> str:
    """Accept what people paste ("https://Foo.myshopify.com/admin", "foo.myshopify.com", "foo")
    and return "foo.myshopify.com"; anything else is a ValueError with a reason."""
    raw = value.strip().lower()
    if "://" in raw:
        raw = urlsplit(raw).hostname or ""
    raw = raw.split("/", 1)[0]
    handle = raw.removesuffix(".myshopify.com")
    if "." in handle or not _HANDLE.fullmatch(handle):
        raise ValueError(
            f"{value!r} is not a myshopify domain (expected e.g. my-shop.myshopify.com)"
        )
    return f"{handle}.myshopify.com"
