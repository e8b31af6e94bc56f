"""structlog, configured once: JSON in production, pretty on a TTY, secrets always redacted."""

from __future__ import annotations

import logging
import re
import sys
from collections.abc import MutableMapping
from typing import Any

import structlog

from storeline.core.settings import log_settings

_SECRET_KEY = re.compile(
    r"(token|secret|password|passwd|authorization|api_?key|credential|cookie|dsn|database_url)",
    re.IGNORECASE,
)
# Values that look like secrets whatever their key: bearer tokens, DSN passwords, vendor tokens.
_SECRET_VALUE = [
    (re.compile(r"(?i)bearer\s+[\w\-.~+/=]+"), "Bearer ***"),
    (re.compile(r"(postgres(?:ql)?://[^:/@\s]+):[^@\s]+@"), r"\1:***@"),
    (re.compile(r"\b(shpat|shpca|shppa|EAA|pat-na1|1//|GOCSPX-)[\w\-]+"), r"\1***"),
    (re.compile(r"(?i)(access_token|refresh_token|client_secret)=[^&\s]+"), r"\1=***"),
]
_configured = False


def redact_value(value: Any) -> Any:
    if isinstance(value, str):
        for pattern, repl in _SECRET_VALUE:
            value = pattern.sub(repl, value)
        return value
    if isinstance(value, dict):
        return {
            k: "***" if _SECRET_KEY.search(str(k)) else redact_value(v) for k, v in value.items()
        }
    if isinstance(value, list | tuple):
        return [redact_value(v) for v in value]
    return value


def redact(_: Any, __: str, event: MutableMapping[str, Any]) -> MutableMapping[str, Any]:
    """structlog processor: masks secret-looking keys and values anywhere in the event."""
    for key in list(event):
        event[key] = "***" if _SECRET_KEY.search(key) else redact_value(event[key])
    return event


def configure(*, force: bool = False) -> None:
    global _configured
    if _configured and not force:
        return
    settings = log_settings()
    fmt = settings.format
    if fmt == "auto":
        fmt = "console" if sys.stderr.isatty() else "json"
    renderer: Any = (
        structlog.dev.ConsoleRenderer() if fmt == "console" else structlog.processors.JSONRenderer()
    )
    structlog.configure(
        processors=[
            structlog.contextvars.merge_contextvars,
            structlog.processors.add_log_level,
            structlog.processors.TimeStamper(fmt="iso", utc=True),
            structlog.processors.format_exc_info,
            redact,
            renderer,
        ],
        wrapper_class=structlog.make_filtering_bound_logger(
            logging.getLevelNamesMapping().get(settings.level.upper(), logging.INFO)
        ),
        logger_factory=structlog.PrintLoggerFactory(file=sys.stderr),
        cache_logger_on_first_use=True,
    )
    _configured = True


def get_logger(name: str) -> Any:
    configure()
    return structlog.get_logger(name)
