"""Small kubectl helpers the operator e2e tests share: apply, get, wait, exec in a pod."""

from __future__ import annotations

import json
import subprocess
from typing import Any

IMAGE = "faultline.local/demo-http:0.1.0"


def container(name: str = "main", **extra: Any) -> dict[str, Any]:
    return {
        "name": name,
        "image": IMAGE,
        "imagePullPolicy": "Never",
        "env": [{"name": "POD_NAME", "valueFrom": {"fieldRef": {"fieldPath": "metadata.name"}}}],
        **extra,
    }


def pod(name: str, app: str, **spec: Any) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": name, "labels": {"app": app}},
        "spec": {"terminationGracePeriodSeconds": 1, "containers": [container()], **spec},
    }


def deployment(name: str, replicas: int) -> dict[str, Any]:
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


def chaos(kind: str, name: str, **spec: Any) -> dict[str, Any]:
    return {
        "apiVersion": "chaos.faultline.dev/v1alpha1",
        "kind": kind,
        "metadata": {"name": name},
        "spec": spec,
    }


def apply(cluster: Any, ns: str, doc: dict[str, Any]) -> None:
    cluster.kubectl("apply", "-n", ns, "-f", "-", stdin=json.dumps(doc))


def get(cluster: Any, ns: str, kind: str, name: str) -> dict[str, Any]:
    return dict(json.loads(cluster.kubectl("get", "-n", ns, kind, name, "-o", "json")))


def status(cluster: Any, ns: str, kind: str, name: str) -> dict[str, Any]:
    return dict(get(cluster, ns, kind, name).get("status") or {})


def pods(cluster: Any, ns: str, app: str) -> list[dict[str, Any]]:
    out = json.loads(cluster.kubectl("get", "-n", ns, "pods", "-l", f"app={app}", "-o", "json"))
    return list(out["items"])


def is_ready(p: dict[str, Any]) -> bool:
    if p["metadata"].get("deletionTimestamp"):
        return False
    conds = (p.get("status") or {}).get("conditions") or []
    return any(c["type"] == "Ready" and c["status"] == "True" for c in conds)


def ready_pod(cluster: Any, ns: str, name: str) -> dict[str, Any]:
    cluster.wait_for(f"pod {name} ready", lambda: is_ready(get(cluster, ns, "pod", name)))
    return get(cluster, ns, "pod", name)


def ready_pods(cluster: Any, ns: str, app: str, n: int) -> list[dict[str, Any]]:
    cluster.wait_for(
        f"{n} ready pods of {app}",
        lambda: (
            sum(is_ready(p) for p in pods(cluster, ns, app)) == n
            and len(pods(cluster, ns, app)) == n
        ),
    )
    return pods(cluster, ns, app)


def sh(cluster: Any, ns: str, pod_name: str, script: str) -> subprocess.CompletedProcess[str]:
    """Run `sh -c script` in the pod (its first container)."""
    return subprocess.run(
        [
            str(cluster.kubectl_path),
            f"--kubeconfig={cluster.kubeconfig}",
            "exec",
            "-n",
            ns,
            pod_name,
            "--",
            "sh",
            "-c",
            script,
        ],
        capture_output=True,
        text=True,
        check=False,
    )


def serves(cluster: Any, ns: str, client: str, ip: str) -> bool:
    """One HTTP request from the client pod to ip:8080, given up after 2 s."""
    out = sh(cluster, ns, client, f"printf 'GET / HTTP/1.0\\r\\n\\r\\n' | nc -w 2 {ip} 8080")
    return '"pod"' in out.stdout


def k8s_events(cluster: Any, ns: str, name: str) -> list[dict[str, Any]]:
    selector = f"involvedObject.name={name}"
    raw = cluster.kubectl("get", "-n", ns, "events", "--field-selector", selector, "-o", "json")
    return list(json.loads(raw)["items"])
