"""The cluster's default StorageClass (on the dev cluster: the local-path provisioner of
hack/cluster/devcluster/storage.py), as the chart's dashboard PVC relies on it: a claim that names
no class binds, a non-root pod writes to it, the next pod reads what it wrote, and deleting the
claim removes the volume."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
from localimages.catalog import DEMO_HTTP

if TYPE_CHECKING:
    from tests.support.cluster import Cluster

pytestmark = pytest.mark.cluster


def _pod(name: str, script: str) -> dict[str, Any]:
    """A pod running `script` once as the dashboard's user (non-root, like the chart's)."""
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": name},
        "spec": {
            "restartPolicy": "Never",
            "terminationGracePeriodSeconds": 1,
            "securityContext": {"runAsUser": 65532, "runAsGroup": 65532, "fsGroup": 65532},
            "containers": [
                {
                    "name": "main",
                    "image": DEMO_HTTP.tag,
                    "imagePullPolicy": "Never",
                    "command": ["sh", "-c", script],
                    "volumeMounts": [{"name": "data", "mountPath": "/data"}],
                }
            ],
            "volumes": [{"name": "data", "persistentVolumeClaim": {"claimName": "data"}}],
        },
    }


def _run(cluster: Cluster, namespace: str, pod: dict[str, Any]) -> str:
    cluster.kubectl("apply", "-n", namespace, "-f", "-", stdin=json.dumps(pod))
    name = pod["metadata"]["name"]

    def done() -> bool:
        out = cluster.kubectl("get", "pod", "-n", namespace, name, "-o", "json")
        phase = json.loads(out)["status"].get("phase")
        assert phase != "Failed", cluster.kubectl("logs", "-n", namespace, name, check=False)
        return bool(phase == "Succeeded")

    cluster.wait_for(f"pod {name} done", done, timeout=120)
    return cluster.kubectl("logs", "-n", namespace, name)


def test_a_claim_without_a_class_binds_and_keeps_data_across_pods(
    cluster: Cluster, namespace: str
) -> None:
    classes = json.loads(cluster.kubectl("get", "storageclass", "-o", "json"))["items"]
    default = [
        c
        for c in classes
        if c["metadata"].get("annotations", {}).get("storageclass.kubernetes.io/is-default-class")
        == "true"
    ]
    assert len(default) == 1, [c["metadata"]["name"] for c in classes]
    claim = {
        "apiVersion": "v1",
        "kind": "PersistentVolumeClaim",
        "metadata": {"name": "data"},
        "spec": {"accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": "8Mi"}}},
    }
    cluster.kubectl("apply", "-n", namespace, "-f", "-", stdin=json.dumps(claim))
    token = f"written-{time.time_ns()}"
    assert _run(cluster, namespace, _pod("writer", f"echo {token} > /data/f && id -u")) == "65532\n"
    cluster.kubectl("delete", "pod", "-n", namespace, "writer", "--wait=true")
    assert _run(cluster, namespace, _pod("reader", "cat /data/f")) == f"{token}\n"

    bound = json.loads(cluster.kubectl("get", "pvc", "-n", namespace, "data", "-o", "json"))
    assert bound["status"]["phase"] == "Bound"
    assert bound["spec"]["storageClassName"] == default[0]["metadata"]["name"]
    volume = bound["spec"]["volumeName"]
    pv = json.loads(cluster.kubectl("get", "pv", volume, "-o", "json"))
    assert pv["spec"]["persistentVolumeReclaimPolicy"] == "Delete"
    folder = None
    if cluster.local:
        assert default[0]["metadata"]["name"] == "standard"
        assert default[0]["volumeBindingMode"] == "WaitForFirstConsumer"
        folder = Path(pv["spec"]["hostPath"]["path"])
        assert folder.parent == cluster.settings.local_path_dir
        assert (folder / "f").read_text() == f"{token}\n"

    # Deleting the claim deletes the volume (reclaimPolicy Delete) and, here, its folder.
    cluster.kubectl("delete", "pod", "-n", namespace, "reader", "--wait=true")
    cluster.kubectl("delete", "pvc", "-n", namespace, "data", "--wait=true")
    cluster.wait_for(
        f"volume {volume} deleted",
        lambda: not cluster.kubectl("get", "pv", volume, "--ignore-not-found", "-o", "name"),
        timeout=120,
    )
    if folder is not None:
        assert not folder.exists()


def test_the_storage_addon_is_applied_only_when_changed(cluster: Cluster) -> None:
    """`up` on a warm cluster does not re-apply the provisioner: one read of its hash."""
    if not cluster.local:
        pytest.skip("the dev cluster's own add-on")
    from devcluster.storage import apply_storage

    began = time.monotonic()
    assert apply_storage(cluster.settings) is False
    assert time.monotonic() - began < 5
