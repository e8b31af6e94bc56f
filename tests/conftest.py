"""Root conftest: loads the shared fixture plugins (pytest only honours pytest_plugins here)."""

pytest_plugins = ["tests.fixtures.db", "tests.fixtures.sandbox"]
