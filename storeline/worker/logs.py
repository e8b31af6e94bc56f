"""The worker's logger, resolved on first use so importing the engine configures nothing."""

from __future__ import annotations

from typing import Any

from storeline.core.logs import get_logger


class _LazyLogger:
    def __getattr__(self, name: str) -> Any:
        return getattr(get_logger("worker"), name)


log: Any = _LazyLogger()
