"""Which connector runs each platform's jobs: the wiring between the job engine and the platforms.

A platform's entry in the platform registry (`storeline/platforms/__init__.py`, `connector`)
names the "module:attribute" of a zero-argument factory (a class is fine) returning a
`storeline.worker.jobs.contract.Connector`. Imports are lazy, so a broken connector fails loudly
at worker start instead of on import of the engine. Tests and operators override entries with
`STORELINE_WORKER_CONNECTORS` or `--connector`.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Iterable, Mapping

from storeline.core.enums import Platform
from storeline.core.errors import ConfigError
from storeline.platforms import PLATFORMS
from storeline.worker.jobs.contract import Connector

ConnectorFactory = Callable[[], Connector]

CONNECTORS: dict[Platform, str] = {
    platform: spec.connector for platform, spec in PLATFORMS.items() if spec.connector is not None
}


def parse_overrides(items: Iterable[str]) -> dict[Platform, str]:
    """`PLATFORM=module:attr` items (comma-separated within an item too); `*` means every one."""
    found: dict[Platform, str] = {}
    for item in items:
        for part in filter(None, (p.strip() for p in item.split(","))):
            name, sep, target = part.partition("=")
            if not sep or ":" not in target:
                raise ConfigError(f"connector override {part!r}: expected PLATFORM=module:attr")
            name = name.strip().upper()
            if name == "*":
                found.update(dict.fromkeys(Platform, target.strip()))
            elif name in Platform.__members__:
                found[Platform(name)] = target.strip()
            else:
                raise ConfigError(f"connector override {part!r}: unknown platform {name}")
    return found


def _import(target: str) -> ConnectorFactory:
    module_name, _, attr = target.partition(":")
    try:
        factory = getattr(importlib.import_module(module_name), attr)
    except (ImportError, AttributeError) as exc:
        raise ConfigError(f"cannot load connector {target!r}: {exc}") from exc
    if not callable(factory):
        raise ConfigError(f"connector {target!r} is not callable")
    return factory  # type: ignore[no-any-return]


def load(overrides: Mapping[Platform, str] | None = None) -> dict[Platform, ConnectorFactory]:
    """Every platform this worker can run, resolved to its factory."""
    targets = {**CONNECTORS, **(overrides or {})}
    return {platform: _import(target) for platform, target in targets.items()}
