"""The dashboard's records outlive its pod by default: a kept PVC on the cluster's default
StorageClass holds the SQLite file; an external database (or persistence off) needs no volume."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

RenderFn = Callable[..., Any]
VALUES = Path(__file__).resolve().parent / "values"


def _data_volume(rendered: Any) -> dict[str, Any]:
    spec = rendered.find("Deployment", "-dashboard")["spec"]["template"]["spec"]
    mount = next(m for m in spec["containers"][0]["volumeMounts"] if m["name"] == "data")
    assert mount["mountPath"] == "/var/lib/faultline"  # FAULTLINE_DATA_DIR: the SQLite file
    return dict(next(v for v in spec["volumes"] if v["name"] == "data"))


def test_default_install_keeps_the_database_on_a_kept_claim(render: RenderFn) -> None:
    r = render()
    pvc = r.find("PersistentVolumeClaim", "-dashboard")
    assert pvc["metadata"]["annotations"]["helm.sh/resource-policy"] == "keep"
    # No storageClassName: the cluster's default class (kind's and the dev cluster's `standard`).
    assert "storageClassName" not in pvc["spec"]
    assert pvc["spec"]["accessModes"] == ["ReadWriteOnce"]
    assert pvc["spec"]["resources"]["requests"]["storage"] == "1Gi"
    assert _data_volume(r) == {
        "name": "data",
        "persistentVolumeClaim": {"claimName": pvc["metadata"]["name"]},
    }
    # One writer on the claim: the old pod is gone before the new one mounts it.
    assert r.find("Deployment", "-dashboard")["spec"]["strategy"] == {"type": "Recreate"}


def test_storage_class_and_size_reach_the_claim(render: RenderFn) -> None:
    r = render(values={"dashboard": {"persistence": {"storageClassName": "fast", "size": "5Gi"}}})
    pvc = r.find("PersistentVolumeClaim", "-dashboard")
    assert pvc["spec"]["storageClassName"] == "fast"
    assert pvc["spec"]["resources"]["requests"]["storage"] == "5Gi"


def test_persistence_off_uses_an_empty_dir(render: RenderFn) -> None:
    r = render(values={"dashboard": {"persistence": {"enabled": False}}})
    assert "PersistentVolumeClaim" not in r.kinds()
    assert _data_volume(r) == {"name": "data", "emptyDir": {}}


def test_an_external_database_needs_no_claim(render: RenderFn) -> None:
    # Two replicas on PostgreSQL: an RWO claim shared by both would pin them to one node.
    r = render("--values", str(VALUES / "privileged.yaml"))
    assert "PersistentVolumeClaim" not in r.kinds()
    assert _data_volume(r) == {"name": "data", "emptyDir": {}}
    assert r.find("Deployment", "-dashboard")["spec"]["replicas"] == 2
