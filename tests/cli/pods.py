"""Pods to aim faults at, and the kernel-level check that a fault is (or is not) in force."""

from __future__ import annotations

import json
import subprocess
from typing import Any

from chaosd.cri import container_main_pid

IMAGE = "faultline.local/demo-http:0.1.0"


def pod(name: str, app: str) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": name, "labels": {"app": app}},
        "spec": {
            "terminationGracePeriodSeconds": 1,
            "containers": [
                {
                    "name": "main",
                    "image": IMAGE,
                    "imagePullPolicy": "Never",
                    "env": [{"name": "POD_NAME", "value": name}],
                }
            ],
        },
    }


def get(cluster: Any, ns: str, kind: str, name: str) -> dict[str, Any]:
    return json.loads(cluster.kubectl("get", "-n", ns, kind, name, "-o", "json"))  # type: ignore[no-any-return]


def ready_pod(cluster: Any, ns: str, name: str, app: str) -> dict[str, Any]:
    cluster.kubectl("apply", "-n", ns, "-f", "-", stdin=json.dumps(pod(name, app)))

    def ready() -> bool:
        conds = get(cluster, ns, "pod", name).get("status", {}).get("conditions", [])
        return any(c["type"] == "Ready" and c["status"] == "True" for c in conds)

    cluster.wait_for(f"pod {name} ready", ready)
    return get(cluster, ns, "pod", name)


def nft_tables(pod_obj: dict[str, Any]) -> str:
    """`nft list tables` inside the pod's network namespace."""
    cid = pod_obj["status"]["containerStatuses"][0]["containerID"]
    pid = container_main_pid(cid).pid
    return subprocess.run(
        ["nsenter", "-t", str(pid), "-n", "nft", "list", "tables"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout


def partition(name: str, duration: str | None = None, app: str = "web") -> str:
    """A NetworkChaos manifest cutting pods labelled `app` off from the `client` pods."""
    lines = [
        "apiVersion: chaos.faultline.dev/v1alpha1",
        "kind: NetworkChaos",
        "metadata:",
        f"  name: {name}",
        "spec:",
        "  action: partition",
        "  mode: all",
        f"  selector: {{labelSelectors: {{app: {app}}}}}",
        "  direction: both",
        "  target: {mode: all, selector: {labelSelectors: {app: client}}}",
    ]
    if duration:
        lines.append(f"  duration: {duration}")
    return "\n".join(lines) + "\n"


def web_service(cluster: Any, ns: str, replicas: int = 3) -> str:
    """`replicas` demo-http pods behind a ClusterIP Service `web`; returns the Service URL."""
    deployment = {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": "web"},
        "spec": {
            "replicas": replicas,
            "selector": {"matchLabels": {"app": "web"}},
            "template": {"metadata": {"labels": {"app": "web"}}, "spec": pod("x", "web")["spec"]},
        },
    }
    service = {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": {"name": "web"},
        "spec": {"selector": {"app": "web"}, "ports": [{"port": 80, "targetPort": 8080}]},
    }
    for doc in (deployment, service):
        cluster.kubectl("apply", "-n", ns, "-f", "-", stdin=json.dumps(doc))
    cluster.kubectl("rollout", "status", "-n", ns, "deploy/web", "--timeout=180s")
    ip = get(cluster, ns, "service", "web")["spec"]["clusterIP"]
    return f"http://{ip}/"


def web_pods(cluster: Any, ns: str) -> list[dict[str, Any]]:
    found = json.loads(cluster.kubectl("get", "-n", ns, "pods", "-l", "app=web", "-o", "json"))
    return list(found["items"])


def node_source_address(pod_ip: str) -> str:
    """The address this host (where the load probe runs) uses towards a pod."""
    words = subprocess.run(
        ["ip", "-4", "route", "get", pod_ip], capture_output=True, text=True, check=True
    ).stdout.split()
    return words[words.index("src") + 1]
