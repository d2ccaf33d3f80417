"""The `web` Service experiments put load on: demo pods behind a ClusterIP Service, and the
Experiment faults that tests aim at it."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import httpx

from tests.support.kube import apply, get, pods
from tests.support.pods import deployment, service

if TYPE_CHECKING:
    from tests.support.cluster import Cluster


def web_service(cluster: Cluster, ns: str, replicas: int = 3) -> str:
    """`replicas` demo pods behind the ClusterIP Service `web`; returns the Service's URL once
    it answers."""
    apply(cluster, ns, deployment("web", replicas))
    apply(cluster, ns, service("web"))
    cluster.kubectl("rollout", "status", "-n", ns, "deploy/web", "--timeout=180s")
    url = f"http://{get(cluster, ns, 'service', 'web')['spec']['clusterIP']}/"
    cluster.wait_for("service answers", lambda: answers(url), timeout=60)
    return url


def answers(url: str) -> bool:
    try:
        return '"pod"' in httpx.get(url, timeout=2).text
    except httpx.HTTPError:
        return False


def web_pods(cluster: Cluster, ns: str) -> list[dict[str, Any]]:
    return pods(cluster, ns, "web")


def partition_from(ns: str, source: str) -> dict[str, Any]:
    """An Experiment fault: the `web` pods of `ns` cut off from `source` (e.g. the node's
    address, where the load probe runs), both ways."""
    return {
        "name": "cut",
        "type": "NetworkChaos",
        "networkChaos": {
            "action": "partition",
            "mode": "all",
            "selector": {"namespaces": [ns], "labelSelectors": {"app": "web"}},
            "direction": "both",
            "externalTargets": [source],
        },
    }


def pod_kill_one() -> dict[str, Any]:
    """An Experiment fault: one `web` pod killed (its Deployment replaces it)."""
    return {
        "name": "kill-one",
        "type": "PodChaos",
        "podChaos": {
            "action": "pod-kill",
            "mode": "one",
            "selector": {"labelSelectors": {"app": "web"}},
        },
    }
