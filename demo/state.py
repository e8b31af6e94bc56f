"""What the demo remembers between runs: the sandbox anchor and a local encryption key.

Keeping the anchor makes a rerun continue the same sandbox world (its clock moved forward to now),
so the second run shows incremental syncs picking up new orders instead of a different world.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from storeline.core.crypto import generate_key


@dataclass(frozen=True)
class DemoState:
    anchor: datetime
    size: str
    first_run: bool


def load_or_create(data_dir: Path, size: str) -> DemoState:
    path = data_dir / "demo-state.json"
    if path.exists():
        saved = json.loads(path.read_text())
        if saved.get("size") == size:
            return DemoState(datetime.fromisoformat(saved["anchor"]), size, first_run=False)
    anchor = datetime.now(UTC).replace(minute=0, second=0, microsecond=0)
    data_dir.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({"anchor": anchor.isoformat(), "size": size}))
    return DemoState(anchor, size, first_run=True)


def ensure_encryption_key(data_dir: Path) -> None:
    """Use STORELINE_ENCRYPTION_KEYS when set; otherwise a demo-only key kept in the data dir."""
    if os.environ.get("STORELINE_ENCRYPTION_KEYS"):
        return
    path = data_dir / "demo-encryption-key"
    if not path.exists():
        data_dir.mkdir(parents=True, exist_ok=True)
        path.write_text(generate_key("demo1"))
        path.chmod(0o600)
    os.environ["STORELINE_ENCRYPTION_KEYS"] = path.read_text().strip()
