"""The demo pod tests aim faults at, and what a test checks on it.

demo-http (hack/images/demo-http) answers `{"pod": <POD_NAME>, ...}` on port 8080; its image
also carries busybox, so a `client` pod of it can send requests and pings to the others. On the
one-node dev cluster the pods run on this host, so the checks read the pod's network namespace
straight from the kernel.
"""

from __future__ import annotations

import subprocess
from typing import TYPE_CHECKING, Any

from localimages.catalog import DEMO_HTTP

from chaosd.cri import container_main_pid
from tests.support.kube import apply, chaos, get, pods, sh

if TYPE_CHECKING:
    from tests.support.cluster import Cluster

DEMO_IMAGE = DEMO_HTTP.tag


def container(name: str = "main", **extra: Any) -> dict[str, Any]:
    """The demo container, imported into the node's containerd beforehand (never pulled)."""
    return {
        "name": name,
        "image": DEMO_IMAGE,
        "imagePullPolicy": "Never",
        "env": [{"name": "POD_NAME", "valueFrom": {"fieldRef": {"fieldPath": "metadata.name"}}}],
        **extra,
    }


def demo_pod(name: str, app: str, **spec: Any) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": name, "labels": {"app": app}},
        "spec": {"terminationGracePeriodSeconds": 1, "containers": [container()], **spec},
    }


def deployment(name: str, replicas: int) -> dict[str, Any]:
    """`replicas` demo pods labelled `app: <name>`."""
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": name},
        "spec": {
            "replicas": replicas,
            "selector": {"matchLabels": {"app": name}},
            "template": {
                "metadata": {"labels": {"app": name}},
                "spec": {"terminationGracePeriodSeconds": 1, "containers": [container()]},
            },
        },
    }


def service(name: str) -> dict[str, Any]:
    """A ClusterIP Service on port 80 for the demo pods labelled `app: <name>`."""
    return {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": {"name": name},
        "spec": {"selector": {"app": name}, "ports": [{"port": 80, "targetPort": 8080}]},
    }


def reports_ready(pod: dict[str, Any]) -> bool:
    """The Ready condition is True (a pod being deleted may still report it)."""
    conds = (pod.get("status") or {}).get("conditions") or []
    return any(c["type"] == "Ready" and c["status"] == "True" for c in conds)


def is_ready(pod: dict[str, Any]) -> bool:
    """Ready and not being deleted: a pod a test can aim at."""
    return not pod["metadata"].get("deletionTimestamp") and reports_ready(pod)


def ready_pod(cluster: Cluster, ns: str, name: str) -> dict[str, Any]:
    cluster.wait_for(f"pod {name} ready", lambda: is_ready(get(cluster, ns, "pod", name)))
    return get(cluster, ns, "pod", name)


def ready_pods(cluster: Cluster, ns: str, app: str, n: int) -> list[dict[str, Any]]:
    """Exactly `n` pods labelled `app`, all of them ready (none on its way out)."""
    cluster.wait_for(
        f"{n} ready pods of {app}",
        lambda: (
            sum(is_ready(p) for p in pods(cluster, ns, app)) == n
            and len(pods(cluster, ns, app)) == n
        ),
    )
    return pods(cluster, ns, app)


def start_demo_pod(cluster: Cluster, ns: str, name: str, app: str) -> dict[str, Any]:
    """Applies the demo pod and returns it once ready."""
    apply(cluster, ns, demo_pod(name, app))
    return ready_pod(cluster, ns, name)


def web_and_client(cluster: Cluster, ns: str) -> dict[str, Any]:
    """A `web` demo pod and a `client` one to reach it from, both ready; returns `web`."""
    apply(cluster, ns, demo_pod("web", "web"))
    apply(cluster, ns, demo_pod("client", "client"))
    web = ready_pod(cluster, ns, "web")
    ready_pod(cluster, ns, "client")
    return web


def partition_web_from_client(name: str, **extra: Any) -> dict[str, Any]:
    """A NetworkChaos cutting every `web` pod off from every `client` pod, both ways."""
    return chaos(
        "NetworkChaos",
        name,
        action="partition",
        mode="all",
        selector={"labelSelectors": {"app": "web"}},
        direction="both",
        target={"mode": "all", "selector": {"labelSelectors": {"app": "client"}}},
        **extra,
    )


def start_sleeper(cluster: Cluster, ns: str, name: str) -> None:
    """A pod of the demo image that only sleeps, made with `kubectl run`; returns once ready."""
    cluster.kubectl(
        "-n", ns, "run", name, f"--image={DEMO_IMAGE}", "--image-pull-policy=IfNotPresent",
        "--restart=Never", "--command", "--", "sleep", "3600",
    )  # fmt: skip
    cluster.kubectl("-n", ns, "wait", "--for=condition=Ready", f"pod/{name}", "--timeout=240s")


def serves(cluster: Cluster, ns: str, client: str, ip: str) -> bool:
    """One HTTP request from the client pod to ip:8080, given up after 2 s (busybox nc -w)."""
    out = sh(cluster, ns, client, f"printf 'GET / HTTP/1.0\\r\\n\\r\\n' | nc -w 2 {ip} 8080")
    return '"pod"' in out.stdout


def target_pid(pod: dict[str, Any]) -> int:
    """The host PID of the pod's first container, as the CRI reports it."""
    return container_main_pid(pod["status"]["containerStatuses"][0]["containerID"]).pid


def nft_tables(pid: int) -> str:
    """`nft list tables` inside the network namespace of `pid`."""
    return subprocess.run(
        ["nsenter", "-t", str(pid), "-n", "nft", "list", "tables"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout


def pod_nft_tables(pod: dict[str, Any]) -> str:
    """`nft list tables` inside the pod's network namespace (its first container's)."""
    return nft_tables(target_pid(pod))


def node_source_address(pod_ip: str) -> str:
    """The address this host (the node, where local probes run) uses towards a pod: the source
    the pod sees in their requests, and so what a partition from them must name."""
    words = subprocess.run(
        ["ip", "-4", "route", "get", pod_ip], capture_output=True, text=True, check=True
    ).stdout.split()
    return words[words.index("src") + 1]
