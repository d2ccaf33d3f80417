"""The e2e run's order; the `cluster` and `namespace` fixtures live in tests/support/cluster.py."""

from __future__ import annotations

import pytest


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    # The teardown test takes the cluster down and up again: run it after every other test.
    last = [i for i in items if i.nodeid.startswith("tests/e2e/test_teardown.py")]
    if last:
        items[:] = [i for i in items if i not in last] + last
