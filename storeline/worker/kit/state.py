"""Typed cursors and progress: a connector declares pydantic models for what it keeps between
jobs (the cursor, committed with SUCCEEDED) and between attempts (progress, committed with the
rows it describes), instead of hand-built dicts. Stored as JSON in sync_cursors.watermark and
sync_jobs.progress; unknown keys are ignored, so a model can grow without a data migration.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar

from pydantic import BaseModel, ConfigDict


class State(BaseModel):
    """Base for cursor and progress models."""

    model_config = ConfigDict(extra="ignore")


S = TypeVar("S", bound=State)


def read(model: type[S], stored: Mapping[str, Any] | None, key: str | None = None) -> S:
    """`model` from a stored mapping (a cursor, or one key of a job's progress)."""
    value = (stored or {}).get(key) if key is not None else stored
    return model.model_validate(value or {})


def entry(key: str, value: State) -> dict[str, Any]:
    """One progress key as a staging checkpoint or `save_progress` takes it."""
    return {key: value.model_dump(mode="json")}
