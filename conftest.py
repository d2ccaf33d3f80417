"""Fixture modules shared across test folders (pytest only honours this at the rootdir)."""

pytest_plugins = ["tests.e2e.operator_fixtures", "tests.e2e.operator_process"]
