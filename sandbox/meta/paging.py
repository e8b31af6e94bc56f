"""Cursor paging for insights edges: `{"data": [...], "paging": {"cursors": {"before", "after"},
"next", "previous"}}` with absolute `next`/`previous` URLs back to this server.

Cursors are opaque to clients but shaped like Meta's: base64 of a decimal position with each "="
written as "ZD" ("MAZDZD" is position 0, as in Meta's own examples).
"""

from __future__ import annotations

import base64
import binascii
import itertools
from collections import deque
from collections.abc import Callable, Iterator, Mapping
from typing import Any
from urllib.parse import urlencode

from sandbox.meta import errors
from sandbox.meta.render import Entry


def encode_cursor(position: int) -> str:
    raw = base64.b64encode(str(position).encode()).decode()
    return raw.replace("=", "ZD")


def decode_cursor(cursor: str) -> int:
    try:
        text = base64.b64decode(cursor.replace("ZD", "=").encode(), validate=True).decode()
        return int(text)
    except (ValueError, binascii.Error) as exc:
        raise errors.invalid_parameter("Invalid cursor") from exc


def page(
    entries: Callable[[int], Iterator[Entry]],
    params: Mapping[str, str],
    limit: int,
    link: Callable[[dict[str, str]], str],
) -> dict[str, Any]:
    """One page of `entries(after_position)`; `link(params)` turns params into an absolute URL."""
    before = params.get("before")
    after = params.get("after")
    if before is not None:
        stop = decode_cursor(before)
        window: deque[Entry] = deque(maxlen=limit)
        for entry in entries(-1):
            if entry[0] >= stop:
                break
            window.append(entry)
        chunk, more_after = list(window), True
        more_before = bool(chunk) and _exists_before(entries, chunk[0][0])
    else:
        start = decode_cursor(after) if after is not None else -1
        got = list(itertools.islice(entries(start), limit + 1))
        chunk, more_after = got[:limit], len(got) > limit
        more_before = after is not None
    body: dict[str, Any] = {"data": [row for _, row in chunk]}
    if not chunk:
        return body
    first, last = encode_cursor(chunk[0][0]), encode_cursor(chunk[-1][0])
    paging: dict[str, Any] = {"cursors": {"before": first, "after": last}}
    carry = {k: v for k, v in params.items() if k not in ("after", "before")}
    if more_after:
        paging["next"] = link(carry | {"limit": str(limit), "after": last})
    if more_before:
        paging["previous"] = link(carry | {"limit": str(limit), "before": first})
    body["paging"] = paging
    return body


def _exists_before(entries: Callable[[int], Iterator[Entry]], position: int) -> bool:
    first = next(entries(-1), None)
    return first is not None and first[0] < position


def url(origin: str, path: str, params: Mapping[str, str]) -> str:
    return f"{origin}{path}?{urlencode(params)}"
