"""NetworkChaos through the real operator, chaosd and kernel on a real cluster.

A `web` pod is partitioned from a `client` pod by a NetworkChaos applied like a user would
(kubectl apply); the client's requests must fail while it is in force and succeed after it is
deleted, and the pod's network namespace must hold no Faultline table afterwards.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess

import pytest

from chaosd import namespaces
from chaosd.cri import container_main_pid
from chaosd.faults.network import delayers
from tests.cli.pods import pod as _pod

pytestmark = pytest.mark.cluster


def _apply(cluster, ns: str, doc: dict) -> None:
    cluster.kubectl("apply", "-n", ns, "-f", "-", stdin=json.dumps(doc))


def _get(cluster, ns: str, kind: str, name: str) -> dict:
    return json.loads(cluster.kubectl("get", "-n", ns, kind, name, "-o", "json"))


def _ready_pod(cluster, ns: str, name: str) -> dict:
    def ready() -> bool:
        pod = _get(cluster, ns, "pod", name)
        conds = pod.get("status", {}).get("conditions", [])
        return any(c["type"] == "Ready" and c["status"] == "True" for c in conds)

    cluster.wait_for(f"pod {name} ready", ready)
    return _get(cluster, ns, "pod", name)


def _reachable(cluster, ns: str, ip: str) -> bool:
    """One HTTP request from the client pod, given up after 2 s (busybox nc -w)."""
    request = "printf 'GET / HTTP/1.0\\r\\n\\r\\n' | nc -w 2 " + f"{ip} 8080"
    out = subprocess.run(
        [
            str(cluster.kubectl_path),
            f"--kubeconfig={cluster.kubeconfig}",
            "exec",
            "-n",
            ns,
            "client",
            "--",
            "sh",
            "-c",
            request,
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    return '"pod"' in out.stdout


def _tables(pod: dict) -> str:
    cid = pod["status"]["containerStatuses"][0]["containerID"]
    pid = container_main_pid(cid).pid
    return subprocess.run(
        ["nsenter", "-t", str(pid), "-n", "nft", "list", "tables"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout


def _chaos(name: str, **spec: object) -> dict:
    return {
        "apiVersion": "chaos.faultline.dev/v1alpha1",
        "kind": "NetworkChaos",
        "metadata": {"name": name},
        "spec": spec,
    }


def test_partition_blocks_then_heals(cluster, namespace, operator) -> None:
    _apply(cluster, namespace, _pod("web", "web"))
    _apply(cluster, namespace, _pod("client", "client"))
    web = _ready_pod(cluster, namespace, "web")
    _ready_pod(cluster, namespace, "client")
    ip = web["status"]["podIP"]
    assert _reachable(cluster, namespace, ip)

    _apply(
        cluster,
        namespace,
        _chaos(
            "cut-web",
            action="partition",
            mode="all",
            selector={"labelSelectors": {"app": "web"}},
            direction="both",
            target={"mode": "all", "selector": {"labelSelectors": {"app": "client"}}},
        ),
    )

    def injected() -> bool:
        st = _get(cluster, namespace, "networkchaos", "cut-web").get("status", {})
        return st.get("phase") == "Running" and st.get("injectedTargets") == 1

    cluster.wait_for("NetworkChaos injected", injected, timeout=120)
    status = _get(cluster, namespace, "networkchaos", "cut-web")["status"]
    assert status["records"][0]["id"] == f"{namespace}/web"
    assert status["records"][0]["phase"] == "Injected"
    assert "faultline" in _tables(web)
    assert not _reachable(cluster, namespace, ip)

    cluster.kubectl("delete", "-n", namespace, "networkchaos", "cut-web", "--timeout=60s")
    cluster.wait_for("web reachable again", lambda: _reachable(cluster, namespace, ip), 60)
    assert "faultline" not in _tables(web)


def test_pods_created_during_the_experiment_are_injected(cluster, own_ns, start_operator) -> None:
    """The new pod is injected on its own pod events: this operator's tick (which also picks
    up new pods) comes only every 10 minutes, and the lease is long enough to outlast it."""
    start_operator(FAULTLINE_TICK_SECONDS="600", FAULTLINE_LEASE_SECONDS="900")
    namespace = own_ns
    _apply(cluster, namespace, _pod("client", "client"))
    _apply(cluster, namespace, _pod("web-1", "web"))
    _ready_pod(cluster, namespace, "client")
    _ready_pod(cluster, namespace, "web-1")
    _apply(
        cluster,
        namespace,
        _chaos(
            "cut-all-web",
            action="partition",
            mode="all",
            selector={"labelSelectors": {"app": "web"}},
            direction="both",
            target={"mode": "all", "selector": {"labelSelectors": {"app": "client"}}},
        ),
    )

    def injected(n: int):
        def check() -> bool:
            st = _get(cluster, namespace, "networkchaos", "cut-all-web").get("status", {})
            return st.get("injectedTargets") == n

        return check

    cluster.wait_for("first pod injected", injected(1), timeout=120)
    _apply(cluster, namespace, _pod("web-2", "web"))  # arrives mid-experiment
    late = _ready_pod(cluster, namespace, "web-2")
    cluster.wait_for("late pod injected", injected(2), timeout=120)
    assert not _reachable(cluster, namespace, late["status"]["podIP"])
    cluster.kubectl("delete", "-n", namespace, "networkchaos", "cut-all-web", "--timeout=60s")
    cluster.wait_for(
        "late pod reachable", lambda: _reachable(cluster, namespace, late["status"]["podIP"]), 60
    )


def test_delete_does_not_wedge_when_chaosd_is_down(cluster, namespace, operator, chaosd) -> None:
    _apply(cluster, namespace, _pod("client", "client"))
    _apply(cluster, namespace, _pod("web", "web"))
    _ready_pod(cluster, namespace, "client")
    web = _ready_pod(cluster, namespace, "web")
    _apply(
        cluster,
        namespace,
        _chaos(
            "orphaned",
            action="partition",
            mode="all",
            selector={"labelSelectors": {"app": "web"}},
            direction="both",
            target={"mode": "all", "selector": {"labelSelectors": {"app": "client"}}},
        ),
    )
    cluster.wait_for(
        "injected",
        lambda: (
            _get(cluster, namespace, "networkchaos", "orphaned")
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
    cluster.wait_for("table gone", lambda: "faultline" not in _tables(web), timeout=60)
    assert _reachable(cluster, namespace, web["status"]["podIP"])


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


def _nft_in(pid: int) -> str:
    return subprocess.run(
        ["nsenter", "-t", str(pid), "-n", "nft", "list", "tables"],
        capture_output=True, text=True, check=True,
    ).stdout  # fmt: skip


def test_a_restarted_container_stays_partitioned_until_the_duration_ends(
    cluster, namespace, operator
) -> None:
    """The web container dies (as when a fault makes it fail its liveness probe) and the kubelet
    restarts it while the partition is desired: the pod's sandbox keeps the network namespace,
    the fault stays in force there, and at the end of the duration it is removed completely."""
    _apply(cluster, namespace, _pod("web", "web"))
    _apply(cluster, namespace, _pod("client", "client"))
    web = _ready_pod(cluster, namespace, "web")
    _ready_pod(cluster, namespace, "client")
    ip = web["status"]["podIP"]
    sandbox = _sandbox_pid(web)
    _apply(
        cluster, namespace,
        _chaos("cut-restarting", action="partition", mode="all", duration="45s",
               selector={"labelSelectors": {"app": "web"}}, direction="both",
               target={"mode": "all", "selector": {"labelSelectors": {"app": "client"}}}),
    )  # fmt: skip

    def injected() -> bool:
        st = _get(cluster, namespace, "networkchaos", "cut-restarting").get("status", {})
        return st.get("injectedTargets") == 1

    cluster.wait_for("NetworkChaos injected", injected, timeout=120)
    assert "faultline" in _nft_in(sandbox)
    old = web["status"]["containerStatuses"][0]["containerID"]
    os.kill(container_main_pid(old).pid, signal.SIGKILL)

    def restarted() -> bool:
        st = _get(cluster, namespace, "pod", "web")["status"]["containerStatuses"][0]
        return st.get("restartCount", 0) >= 1 and bool(st.get("ready"))

    cluster.wait_for("web restarted", restarted, timeout=120)
    # Still desired: in force in the sandbox's namespace, and the client is still cut off.
    assert _sandbox_pid(_get(cluster, namespace, "pod", "web")) == sandbox
    assert "faultline" in _nft_in(sandbox)
    assert not _reachable(cluster, namespace, ip)

    def finished() -> bool:
        st = _get(cluster, namespace, "networkchaos", "cut-restarting").get("status", {})
        return st.get("phase") == "Finished"

    cluster.wait_for("the duration to end", finished, timeout=180)
    cluster.wait_for("web reachable again", lambda: _reachable(cluster, namespace, ip), 60)
    assert "faultline" not in _nft_in(sandbox)
    left = [d.pid for d in delayers.find(netns_inode=namespaces.inode(sandbox, "net"))]
    assert not left, f"delayers left in the pod: {left}"
