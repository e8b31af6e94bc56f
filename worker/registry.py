"""Which connector runs each platform's jobs.

A connector adds one line to `CONNECTORS`: the platform and the "module:attribute" of a
zero-argument factory (a class is fine) returning a `worker.jobs.contract.Connector`. Imports are
lazy, so a broken connector fails loudly at worker start instead of on import of the engine.
Tests and operators override entries with `STORELINE_WORKER_CONNECTORS` or `--connector`.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Iterable, Mapping

from storeline.enums import Platform
from storeline.errors import ConfigError
from worker.jobs.contract import Connector

ConnectorFactory = Callable[[], Connector]

CONNECTORS: dict[Platform, str] = {
    Platform.SHOPIFY: "worker.connectors.shopify.connector:ShopifyConnector",
    Platform.META: "worker.connectors.meta.connector:MetaConnector",
    Platform.HUBSPOT: "worker.connectors.hubspot.connector:HubSpotConnector",
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
