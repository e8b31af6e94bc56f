"""Retry policy: what a job's ending means (docs/job-engine.md D3).

Transient errors retry with capped exponential backoff and jitter until `max_attempts`; terminal
errors fail at once, and credential errors also mark the credential NEEDS_REAUTH. Anything the
connector did not classify is treated as transient: a bug retried a few times ends FAILED anyway.
The structured `error` ({code, message, task, retryable}) is redacted, so it never holds a secret.
"""

from __future__ import annotations

import enum
import random
from dataclasses import dataclass
from typing import Any

import asyncpg

from storeline.core.logs import redact_value
from storeline.worker.errors import (
    CredentialError,
    JobCancelled,
    LeaseLost,
    SyncError,
    TransientError,
)

_MESSAGE_LIMIT = 500


class Action(enum.Enum):
    COMPLETE = "complete"
    RETRY = "retry"
    FAIL = "fail"
    CANCEL = "cancel"
    RELEASE = "release"  # shutdown: back to QUEUED, attempt restored
    NOTHING = "nothing"  # lease lost: another worker owns the job now


@dataclass(frozen=True)
class Decision:
    action: Action
    error: dict[str, Any] | None = None
    delay: float = 0.0
    reauth_reason: str | None = None


def backoff(attempt: int, *, base: float, cap: float, retry_after: float | None = None) -> float:
    """Seconds before attempt `attempt + 1`: base·2^(attempt-1) capped, with "equal jitter" (half
    fixed, half random) so replicas retrying together spread out; a server's Retry-After wins."""
    ceiling = min(cap, base * 2.0 ** max(attempt - 1, 0))
    delay = ceiling / 2 + random.uniform(0, ceiling / 2)
    if retry_after is not None:
        delay = max(delay, min(retry_after, cap))
    return delay


def error_body(code: str, message: str, *, task: str | None, retryable: bool) -> dict[str, Any]:
    text = str(redact_value(message))
    if len(text) > _MESSAGE_LIMIT:
        text = text[: _MESSAGE_LIMIT - 1] + "…"
    return {"code": code, "message": text, "task": task, "retryable": retryable}


def _unclassified_code(exc: BaseException) -> str:
    if isinstance(exc, TimeoutError):  # also the engine's own job timeout
        return "timeout"
    if isinstance(exc, OSError | asyncpg.InterfaceError | asyncpg.PostgresConnectionError):
        return "connection_error"
    return "internal_error"


def decide(
    exc: BaseException | None,
    *,
    attempts: int,
    max_attempts: int,
    task: str | None,
    base: float,
    cap: float,
) -> Decision:
    """Map how the connector ended (None: it returned) to what the engine writes."""
    if exc is None:
        return Decision(Action.COMPLETE)
    if isinstance(exc, LeaseLost):
        return Decision(Action.NOTHING)
    if isinstance(exc, JobCancelled):
        return Decision(
            Action.CANCEL,
            error_body("cancelled", "cancelled on request", task=task, retryable=False),
        )
    if isinstance(exc, SyncError):
        body = error_body(exc.code, str(exc), task=exc.task or task, retryable=exc.retryable)
        if isinstance(exc, CredentialError):
            return Decision(Action.FAIL, body, reauth_reason=f"{exc.code}: {body['message']}")
        if not isinstance(exc, TransientError):
            return Decision(Action.FAIL, body)
        retry_after = exc.retry_after
    else:
        code = _unclassified_code(exc)
        message = f"{type(exc).__name__}: {exc}".rstrip(": ")
        body = error_body(code, message, task=task, retryable=True)
        retry_after = None
    if attempts >= max_attempts:
        return Decision(Action.FAIL, {**body, "attempts": attempts})
    return Decision(
        Action.RETRY, body, delay=backoff(attempts, base=base, cap=cap, retry_after=retry_after)
    )
