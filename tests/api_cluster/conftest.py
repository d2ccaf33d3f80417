"""Fixtures for the dashboard API in cluster mode, against the real Kubernetes cluster.

The dashboard runs as in production (TokenReview + SubjectAccessReview auth, writes as custom
resources, the mirror watcher) with the kubeconfig of the test cluster; callers use tokens of
real ServiceAccounts created in a throwaway namespace, bound to real Roles.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy.orm import Session, sessionmaker

from backend.api.app import create_app
from backend.db.engine import make_engine, make_sessionmaker
from backend.db.migrate import upgrade_to_head
from backend.settings import Settings
from tests.api.server import RunningServer, serve
from tests.api_cluster.helpers import TOKEN_HINT, release_chaos_objects
from tests.support.cluster import Cluster


@pytest.fixture
def ns(cluster: Cluster, namespace: str) -> Iterator[str]:
    """The throwaway namespace, emptied of Faultline objects before it is deleted."""
    try:
        yield namespace
    finally:
        release_chaos_objects(cluster, namespace)


@pytest.fixture
def sessions(tmp_path: Path) -> Iterator[sessionmaker[Session]]:
    """The dashboard's database (SQLite, migrated) for a Watcher driven by the test itself."""
    engine = make_engine(Settings(data_dir=tmp_path))
    upgrade_to_head(engine)
    try:
        yield make_sessionmaker(engine)
    finally:
        engine.dispose()


@pytest.fixture
def dashboard(
    cluster: Cluster,
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
