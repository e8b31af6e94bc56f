"""The platform registry covers every platform, and the worker's wiring reads it."""

from __future__ import annotations

import importlib

from storeline.core.enums import Platform
from storeline.platforms import PLATFORMS
from storeline.worker import registry


def test_every_platform_has_one_entry() -> None:
    assert set(PLATFORMS) == set(Platform)
    for platform, spec in PLATFORMS.items():
        assert spec.platform is platform
        assert spec.secret_fields, platform
        assert not spec.secret_fields & spec.metadata_keys, platform


def test_each_connector_lives_in_its_platforms_folder() -> None:
    for platform, spec in PLATFORMS.items():
        if spec.connector is None:
            continue
        module, _, attr = spec.connector.partition(":")
        assert module.startswith(f"storeline.platforms.{platform.lower()}."), spec.connector
        assert callable(getattr(importlib.import_module(module), attr))


def test_the_worker_runs_what_the_registry_names() -> None:
    named = {p: s.connector for p, s in PLATFORMS.items() if s.connector is not None}
    assert named == registry.CONNECTORS
    assert set(registry.load()) == {Platform.SHOPIFY, Platform.META}
