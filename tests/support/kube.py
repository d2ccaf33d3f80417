"""kubectl from tests, the way a user drives the cluster: apply a manifest, read objects back,
run a shell in a pod; and the chaos object manifest those tests apply."""

from __future__ import annotations

import json
import subprocess
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from tests.support.cluster import Cluster

CHAOS_API = "chaos.faultline.dev/v1alpha1"


def chaos(kind: str, name: str, **spec: Any) -> dict[str, Any]:
    return {"apiVersion": CHAOS_API, "kind": kind, "metadata": {"name": name}, "spec": spec}


def apply(cluster: Cluster, ns: str, doc: dict[str, Any]) -> None:
    cluster.kubectl("apply", "-n", ns, "-f", "-", stdin=json.dumps(doc))


def get(cluster: Cluster, ns: str, kind: str, name: str = "") -> dict[str, Any]:
    """One object, or without `name` the list of every `kind` in `ns`."""
    args = ["get", "-n", ns, kind] + ([name] if name else [])
    return dict(json.loads(cluster.kubectl(*args, "-o", "json")))


def status(cluster: Cluster, ns: str, kind: str, name: str) -> dict[str, Any]:
    return dict(get(cluster, ns, kind, name).get("status") or {})


def pods(cluster: Cluster, ns: str, app: str) -> list[dict[str, Any]]:
    out = json.loads(cluster.kubectl("get", "-n", ns, "pods", "-l", f"app={app}", "-o", "json"))
    return list(out["items"])


def sh(cluster: Cluster, ns: str, pod_name: str, script: str) -> subprocess.CompletedProcess[str]:
    """Run `sh -c script` in the pod (its first container); a failure is the caller's to judge."""
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


def k8s_events(cluster: Cluster, ns: str, name: str) -> list[dict[str, Any]]:
    selector = f"involvedObject.name={name}"
    raw = cluster.kubectl("get", "-n", ns, "events", "--field-selector", selector, "-o", "json")
    return list(json.loads(raw)["items"])
