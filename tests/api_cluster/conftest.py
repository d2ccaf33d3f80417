"""Fixtures for the dashboard API in cluster mode, against the real Kubernetes cluster.

The dashboard runs as in production (TokenReview + SubjectAccessReview auth, writes as custom
resources, the mirror watcher) with the kubeconfig of the test cluster; callers use tokens of
real ServiceAccounts created in a throwaway namespace, bound to real Roles.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from backend.api.app import create_app
from backend.settings import Settings
from tests.api.server import RunningServer, serve
from tests.api_cluster.helpers import TOKEN_HINT, release_chaos_objects

# The e2e fixtures (and, when this folder runs alone, the hook that builds the dev cluster's
# binaries outside any test timeout) are reused as they are.
from tests.e2e.conftest import (  # noqa: F401
    Cluster,
    cluster,
    namespace,
    pytest_collection_finish,
)


@pytest.fixture
def ns(cluster: Cluster, namespace: str) -> Iterator[str]:  # noqa: F811
    """The throwaway namespace, emptied of Faultline objects before it is deleted."""
    try:
        yield namespace
    finally:
        release_chaos_objects(cluster, namespace)


@pytest.fixture
def dashboard(
    cluster: Cluster,  # noqa: F811
    crds: None,
    tmp_path: Path,
) -> Iterator[RunningServer]:
    settings = Settings(
        mode="cluster",
        kubeconfig=cluster.kubeconfig,
        data_dir=tmp_path / "data",
        housekeeping_enabled=False,
        log_level="WARNING",
        token_hint=TOKEN_HINT,
    )
    with serve(create_app(settings, configure_logs=False)) as running:
        yield running
