"""An operator process a test owns: scoped to the test's namespace, killable and restartable.

The shared `operator` fixture watches the whole cluster with fixed settings; tests of safety
settings, of metrics and of a controller crash need their own process (their own environment,
their own metrics port, `kill -9` mid-experiment), and must not act on other tests' objects,
so this one only watches the namespaces it is given.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.operator import OWN_PREFIX, Chaosd, OperatorProcess


@pytest.fixture
def own_ns(cluster) -> Iterator[str]:  # type: ignore[no-untyped-def]
    """A throwaway namespace only this test's own operator acts on; always deleted."""
    name = f"{OWN_PREFIX}{uuid.uuid4().hex[:8]}"
    cluster.kubectl("create", "namespace", name)
    cluster.wait_for(
        f"service account in {name}",
        lambda: "default" in cluster.kubectl("get", "-n", name, "serviceaccounts", "-o", "name"),
    )
    try:
        yield name
    finally:
        cluster.kubectl("delete", "namespace", name, "--wait=false", check=False)


@pytest.fixture
def start_operator(cluster, crds, chaosd: Chaosd, own_ns: str, tmp_path: Path):  # type: ignore[no-untyped-def]
    """Factory: start_operator(**env) -> a running OperatorProcess watching `own_ns`."""
    namespace = own_ns
    started: list[OperatorProcess] = []

    def start(**env: str) -> OperatorProcess:
        env.setdefault("FAULTLINE_WATCH_NAMESPACES", namespace)
        env.setdefault("FAULTLINE_OPERATOR_NAMESPACE", namespace)
        op = OperatorProcess(cluster.kubeconfig, chaosd, tmp_path / "operator.log", env)
        started.append(op)
        op.start()
        return op

    try:
        yield start
    finally:
        # Delete the test's chaos objects while an operator still runs, so their finalizers are
        # released and every fault is recovered before the namespace goes.
        if started and started[-1].proc is None:
            started[-1].start()
        cluster.kubectl(
            "delete", "-n", namespace, "podchaos,networkchaos,iochaos", "--all", "--timeout=90s",
            check=False,
        )  # fmt: skip
        for op in started:
            op.stop()
        log = tmp_path / "operator.log"
        if log.exists():
            print(log.read_text()[-5000:])
