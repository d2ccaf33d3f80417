"""The cluster the cluster-marked tests run on: the user's KUBECONFIG cluster when reachable,
else the dev cluster from hack/cluster.

`pytest` alone is enough on a fresh machine: when cluster tests are selected and no external
cluster is reachable, the Kubernetes binaries are built (cold: tens of minutes, warm: instant)
right after collection, outside any per-test timeout, and the session fixture then starts (or
reuses) the local cluster from hack/cluster (on the path through tests/support/__init__.py).
"""

from __future__ import annotations

import shutil
import subprocess
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from devcluster import lifecycle
from devcluster.external import external_kubeconfig
from devcluster.settings import Settings
from kubernetes import client, config


@dataclass
class Cluster:
    kubeconfig: Path
    api: client.ApiClient
    kubectl_path: Path
    local: bool  # True when it is the dev cluster started by hack/cluster
    settings: Settings

    def kubectl(self, *args: str, check: bool = True, stdin: str | None = None) -> str:
        result = subprocess.run(
            [str(self.kubectl_path), f"--kubeconfig={self.kubeconfig}", *args],
            capture_output=True,
            text=True,
            input=stdin,
            check=False,
        )
        if check and result.returncode != 0:
            raise AssertionError(f"kubectl {' '.join(args)} failed: {result.stderr.strip()}")
        return result.stdout

    @staticmethod
    def wait_for(what: str, check: Callable[[], bool], timeout: float = 240.0) -> None:
        """Poll until check() holds; the bound only keeps a broken cluster from hanging a run."""
        deadline = time.monotonic() + timeout
        while not check():
            if time.monotonic() > deadline:
                raise AssertionError(f"gave up waiting for {what}")
            time.sleep(0.5)


def _wants_cluster(items: list[pytest.Item]) -> bool:
    return any(item.get_closest_marker("cluster") for item in items)


def pytest_collection_finish(session: pytest.Session) -> None:
    if session.config.option.collectonly or not _wants_cluster(session.items):
        return
    if external_kubeconfig(Settings()) is None:
        lifecycle.ensure_binaries()  # the long cold build, outside any per-test timeout


@pytest.fixture(scope="session")
def cluster() -> Iterator[Cluster]:
    s = Settings()
    external = external_kubeconfig(s)
    if external is not None:
        kubeconfig, local = external, False
        found = shutil.which("kubectl")
        kubectl_path = s.kubectl if s.kubectl.exists() else Path(found or "kubectl")
    else:
        lifecycle.up(s)
        kubeconfig, local, kubectl_path = s.admin_kubeconfig, True, s.kubectl
    api = config.new_client_from_config(config_file=str(kubeconfig))
    try:
        yield Cluster(kubeconfig, api, kubectl_path, local, s)
    finally:
        api.close()


@pytest.fixture
def namespace(cluster: Cluster) -> Iterator[str]:
    """A throwaway namespace, always deleted (with everything in it) after the test."""
    name = f"e2e-{uuid.uuid4().hex[:8]}"
    core = client.CoreV1Api(cluster.api)
    core.create_namespace(client.V1Namespace(metadata=client.V1ObjectMeta(name=name)))
    Cluster.wait_for(
        f"service account in {name}",
        lambda: bool(
            core.list_namespaced_service_account(name, field_selector="metadata.name=default").items
        ),
    )
    try:
        yield name
    finally:
        core.delete_namespace(name, propagation_policy="Foreground")
