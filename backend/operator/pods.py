"""List pods for target selection, as the API server's own JSON.

Every reconcile lists the pods of the namespaces an object selects from. The Kubernetes client
turns each pod into model objects, and `kube.list_pods` turns those back into dicts: for a
namespace of 51 pods that took 0.7-1.3 s of CPU on a loaded 2-core node, against 0.03-0.4 s
for reading the JSON as it arrives. It sat in the path of every apply and of every tick, so
here the JSON is read directly (same camelCase shape as manifests, which is what the selection
code expects).
"""

from __future__ import annotations

import json
from typing import Any

from kubernetes import client
from kubernetes.client.exceptions import ApiException

from backend.clients import kube


def list_pods(namespaces: list[str] | None) -> list[dict[str, Any]]:
    """Pods of the given namespaces (None: all namespaces) as manifest-shaped dicts."""
    core = client.CoreV1Api(kube.api_client())
    try:
        if namespaces is None:
            responses = [core.list_pod_for_all_namespaces(_preload_content=False)]
        else:
            responses = [core.list_namespaced_pod(ns, _preload_content=False) for ns in namespaces]
    except ApiException as e:
        raise kube.KubeError(f"list pods: {e.status} {e.reason}", status=e.status) from e
    return [pod for r in responses for pod in json.loads(r.data)["items"]]
