"""Injectable faults, per (platform, shop): servers consult the registry before answering.

A fault fires `times` times (or forever when `times` is None) and then disappears, so a test can
say "the next three requests are throttled" and then watch the client recover.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any


class FaultKind(StrEnum):
    THROTTLE = "throttle"  # the platform's own rate-limit answer (429 / THROTTLED / code 17 ...)
    SERVER_ERROR = "server_error"  # a 5xx
    SLOW = "slow"  # answer after `params["seconds"]` (a client timeout, if it is short enough)
    EXPIRED_TOKEN = "expired_token"  # the platform's expired/invalid-token answer
    REVOKED_TOKEN = "revoked_token"  # access revoked / missing scope
    BULK_FAILED = "bulk_failed"  # Shopify: the next bulk operation ends FAILED (partialDataUrl)
    MALFORMED = "malformed"  # a truncated / non-JSON body with a 200
    # Shopify: shopifyqlQuery's figures are off by `params["amount"]` (default 1.00) on one day
    # (`params["day"]`, default the first asked for), so a reconciliation sees drift.
    REPORT_DRIFT = "report_drift"
    # Shopify: the next bulk result download breaks after `params["after_bytes"]` bytes (default
    # 4096): headers promise the whole file, then the connection is dropped mid-body.
    CUT_DOWNLOAD = "cut_download"
    # Meta: synchronous insights calls time out now and then (code 100/1504018, 2/1504038, or
    # 1 "reduce the amount of data"); `params["probability"]` and `params["seed"]` make it random
    # but reproducible, `params["variant"]` pins one answer (sandbox/meta/app.py).
    INSIGHTS_TIMEOUT = "insights_timeout"
    # Shopify: a bulk file served short but well formed (its last `params["drop_lines"]` lines
    # missing, Content-Length to match), as a truncated storage object would be.
    SHORT_FILE = "short_file"
    # Shopify: the next bulk operations run at least `params["seconds"]` (default 1 s is every
    # operation's minimum), so a test can hold every slot however slowly it submits.
    SLOW_BULK = "slow_bulk"


@dataclass
class Fault:
    kind: FaultKind
    times: int | None = 1
    params: dict[str, Any] = field(default_factory=dict)


@dataclass
class FaultRegistry:
    _faults: dict[tuple[str, str], list[Fault]] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def inject(
        self,
        platform: str,
        shop_id: str,
        kind: FaultKind | str,
        *,
        times: int | None = 1,
        **params: Any,
    ) -> None:
        with self._lock:
            self._faults.setdefault((platform, shop_id), []).append(
                Fault(FaultKind(kind), times, params)
            )

    def take(self, platform: str, shop_id: str, *kinds: FaultKind) -> Fault | None:
        """Consume one firing of the first queued fault of one of `kinds` (any kind if none)."""
        with self._lock:
            queue = self._faults.get((platform, shop_id), [])
            for fault in queue:
                if kinds and fault.kind not in kinds:
                    continue
                if fault.times is not None:
                    fault.times -= 1
                    if fault.times <= 0:
                        queue.remove(fault)
                return fault
            return None

    def clear(self, platform: str | None = None, shop_id: str | None = None) -> None:
        with self._lock:
            for key in list(self._faults):
                if (platform is None or key[0] == platform) and (
                    shop_id is None or key[1] == shop_id
                ):
                    del self._faults[key]
