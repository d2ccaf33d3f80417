"""NetworkChaos through the real operator, chaosd and kernel on a real cluster.

A `web` pod is partitioned from a `client` pod by a NetworkChaos applied like a user would
(kubectl apply); the client's requests must fail while it is in force and succeed after it is
deleted, and the pod's network namespace must hold no Faultline table afterwards.
"""

from __future__ import annotations

import os
import signal

import pytest

from chaosd import namespaces
from chaosd.cri import container_main_pid
from chaosd.faults.network import delayers
from tests.support.kube import apply, get
from tests.support.pods import (
    demo_pod,
    nft_tables,
    partition_web_from_client,
    pod_nft_tables,
    ready_pod,
    serves,
    web_and_client,
)

pytestmark = pytest.mark.cluster


def test_partition_blocks_then_heals(cluster, namespace, operator) -> None:
    web = web_and_client(cluster, namespace)
    ip = web["status"]["podIP"]
    assert serves(cluster, namespace, "client", ip)

    apply(cluster, namespace, partition_web_from_client("cut-web"))

    def injected() -> bool:
        st = get(cluster, namespace, "networkchaos", "cut-web").get("status", {})
        return st.get("phase") == "Running" and st.get("injectedTargets") == 1

    cluster.wait_for("NetworkChaos injected", injected, timeout=120)
    status = get(cluster, namespace, "networkchaos", "cut-web")["status"]
    assert status["records"][0]["id"] == f"{namespace}/web"
    assert status["records"][0]["phase"] == "Injected"
    assert "faultline" in pod_nft_tables(web)
    assert not serves(cluster, namespace, "client", ip)

    cluster.kubectl("delete", "-n", namespace, "networkchaos", "cut-web", "--timeout=60s")
    cluster.wait_for("web reachable again", lambda: serves(cluster, namespace, "client", ip), 60)
    assert "faultline" not in pod_nft_tables(web)


def test_pods_created_during_the_experiment_are_injected(cluster, own_ns, start_operator) -> None:
    """The new pod is injected on its own pod events: this operator's tick (which also picks
    up new pods) comes only every 10 minutes, and the lease is long enough to outlast it."""
    start_operator(FAULTLINE_TICK_SECONDS="600", FAULTLINE_LEASE_SECONDS="900")
    namespace = own_ns
    apply(cluster, namespace, demo_pod("client", "client"))
    apply(cluster, namespace, demo_pod("web-1", "web"))
    ready_pod(cluster, namespace, "client")
    ready_pod(cluster, namespace, "web-1")
    apply(cluster, namespace, partition_web_from_client("cut-all-web"))

    def injected(n: int):
        def check() -> bool:
            st = get(cluster, namespace, "networkchaos", "cut-all-web").get("status", {})
            return st.get("injectedTargets") == n

        return check

    cluster.wait_for("first pod injected", injected(1), timeout=120)
    apply(cluster, namespace, demo_pod("web-2", "web"))  # arrives mid-experiment
    late = ready_pod(cluster, namespace, "web-2")
    cluster.wait_for("late pod injected", injected(2), timeout=120)
    assert not serves(cluster, namespace, "client", late["status"]["podIP"])
    cluster.kubectl("delete", "-n", namespace, "networkchaos", "cut-all-web", "--timeout=60s")
    cluster.wait_for(
        "late pod reachable",
        lambda: serves(cluster, namespace, "client", late["status"]["podIP"]),
        60,
    )


def test_delete_does_not_wedge_when_chaosd_is_down(cluster, namespace, operator, chaosd) -> None:
    web = web_and_client(cluster, namespace)
    apply(cluster, namespace, partition_web_from_client("orphaned"))
    cluster.wait_for(
        "injected",
        lambda: (
            get(cluster, namespace, "networkchaos", "orphaned")
            .get("status", {})
            .get("injectedTargets")
            == 1
        ),
        timeout=120,
    )
    chaosd.stop()  # the daemon dies with the fault in force
    try:
        cluster.kubectl("delete", "-n", namespace, "networkchaos", "orphaned", "--timeout=60s")
        gone = cluster.kubectl("get", "-n", namespace, "networkchaos", "-o", "name")
        assert "orphaned" not in gone  # the finalizer was released
    finally:
        chaosd.start()
    # The restarted daemon finds the lease (10 s) lapsed and recovers the target by itself.
    cluster.wait_for("table gone", lambda: "faultline" not in pod_nft_tables(web), timeout=60)
    assert serves(cluster, namespace, "client", web["status"]["podIP"])


def _sandbox_pid(pod: dict) -> int:
    """The pod's sandbox process: the first workload member of the pod's network namespace
    (it created the namespace, before any container), which is not the container itself."""
    cid = pod["status"]["containerStatuses"][0]["containerID"]
    main = container_main_pid(cid).pid
    ino = namespaces.inode(main, "net")
    assert ino is not None
    sandbox = namespaces.find("net", ino)
    assert sandbox is not None and not sandbox.helper and sandbox.pid != main
    return sandbox.pid


def test_a_restarted_container_stays_partitioned_until_the_duration_ends(
    cluster, namespace, operator
) -> None:
    """The web container dies (as when a fault makes it fail its liveness probe) and the kubelet
    restarts it while the partition is desired: the pod's sandbox keeps the network namespace,
    the fault stays in force there, and at the end of the duration it is removed completely."""
    web = web_and_client(cluster, namespace)
    ip = web["status"]["podIP"]
    sandbox = _sandbox_pid(web)
    apply(cluster, namespace, partition_web_from_client("cut-restarting", duration="45s"))

    def injected() -> bool:
        st = get(cluster, namespace, "networkchaos", "cut-restarting").get("status", {})
        return st.get("injectedTargets") == 1

    cluster.wait_for("NetworkChaos injected", injected, timeout=120)
    assert "faultline" in nft_tables(sandbox)
    old = web["status"]["containerStatuses"][0]["containerID"]
    os.kill(container_main_pid(old).pid, signal.SIGKILL)

    def restarted() -> bool:
        st = get(cluster, namespace, "pod", "web")["status"]["containerStatuses"][0]
        return st.get("restartCount", 0) >= 1 and bool(st.get("ready"))

    cluster.wait_for("web restarted", restarted, timeout=120)
    # Still desired: in force in the sandbox's namespace, and the client is still cut off.
    assert _sandbox_pid(get(cluster, namespace, "pod", "web")) == sandbox
    assert "faultline" in nft_tables(sandbox)
    assert not serves(cluster, namespace, "client", ip)

    def finished() -> bool:
        st = get(cluster, namespace, "networkchaos", "cut-restarting").get("status", {})
        return st.get("phase") == "Finished"

    cluster.wait_for("the duration to end", finished, timeout=180)
    cluster.wait_for("web reachable again", lambda: serves(cluster, namespace, "client", ip), 60)
    assert "faultline" not in nft_tables(sandbox)
    left = [d.pid for d in delayers.find(netns_inode=namespaces.inode(sandbox, "net"))]
    assert not left, f"delayers left in the pod: {left}"
