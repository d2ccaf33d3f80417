"""The generated CRDs on a real API server: bad manifests are rejected naming the field (the same
field `faultline validate` names offline), good ones are accepted, spec edits are refused, and
names, categories and printer columns work in kubectl."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
import yaml

from backend.spec.crdgen import build_crd
from backend.spec.kinds import KINDS
from backend.spec.validate import validate_manifest

if TYPE_CHECKING:
    from tests.support.cluster import Cluster

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "unit" / "spec"))
from spec_samples import (
    EXTERNAL_TARGET_CASES,
    INVALID,
    LOSS,
    PARTITION,
    POD_KILL,
    VALID,
    doc,
)

pytestmark = pytest.mark.cluster
REPO = Path(__file__).resolve().parents[2]


def _apply(cluster: Cluster, namespace: str, manifest: dict[str, Any], *extra: str) -> str:
    """kubectl apply; returns "" on success, else kubectl's error text."""
    result = subprocess.run(
        [
            str(cluster.kubectl_path),
            f"--kubeconfig={cluster.kubeconfig}",
            "apply",
            "-n",
            namespace,
            "-f",
            "-",
            *extra,
        ],
        input=yaml.safe_dump(manifest),
        capture_output=True,
        text=True,
        check=False,
    )
    return "" if result.returncode == 0 else result.stderr


@pytest.fixture(scope="module")
def crds(cluster: Cluster) -> Iterator[None]:
    """Install the committed CRDs; remove the ones this module installed."""
    before = set(cluster.kubectl("get", "crd", "-o", "name").split())
    cluster.kubectl("apply", "-f", str(REPO / "crds"))
    for kind in KINDS.values():
        cluster.kubectl(
            "wait", "--for=condition=Established", "--timeout=120s", f"crd/{kind.crd_name}"
        )
    try:
        yield
    finally:
        for kind in KINDS.values():
            if f"customresourcedefinition.apiextensions.k8s.io/{kind.crd_name}" not in before:
                cluster.kubectl("delete", "crd", kind.crd_name, "--wait=true", check=False)


def test_committed_crds_are_what_the_server_serves(cluster: Cluster, crds: None) -> None:
    for kind in KINDS.values():
        served = json.loads(cluster.kubectl("get", "crd", kind.crd_name, "-o", "json"))
        ours = build_crd(kind)["spec"]["versions"][0]["schema"]["openAPIV3Schema"]
        assert served["spec"]["versions"][0]["schema"]["openAPIV3Schema"] == ours


@pytest.mark.parametrize("manifest", VALID, ids=lambda d: d["kind"])
def test_valid_manifests_are_accepted(
    cluster: Cluster, crds: None, namespace: str, manifest: dict[str, Any]
) -> None:
    assert _apply(cluster, namespace, manifest, "--dry-run=server") == ""


@pytest.mark.parametrize(
    ("kind", "spec", "path", "phrase"), INVALID, ids=[f"{c[0]}:{c[2]}" for c in INVALID]
)
def test_bad_manifests_are_rejected_naming_the_field(
    cluster: Cluster,
    crds: None,
    namespace: str,
    kind: str,
    spec: dict[str, Any],
    path: str,
    phrase: str,
) -> None:
    manifest = doc(kind, spec)
    error = _apply(cluster, namespace, manifest, "--dry-run=server")
    assert f"{path}: " in error and phrase in error, error
    # ... and offline validation says the same thing about the same field
    [offline] = validate_manifest(manifest)
    assert str(offline) in error, (str(offline), error)


def test_unknown_fields_are_rejected(cluster: Cluster, crds: None, namespace: str) -> None:
    error = _apply(cluster, namespace, doc("PodChaos", {**POD_KILL, "gracePeriods": 3}))
    assert 'unknown field "spec.gracePeriods"' in error
    assert [
        str(e) for e in validate_manifest(doc("PodChaos", {**POD_KILL, "gracePeriods": 3}))
    ] == ['unknown field "spec.gracePeriods"']


def test_spec_cannot_change_after_creation(cluster: Cluster, crds: None, namespace: str) -> None:
    first = doc("NetworkChaos", LOSS, name="frozen")
    assert _apply(cluster, namespace, first) == ""
    changed = doc("NetworkChaos", {**LOSS, "loss": {"loss": "50"}}, name="frozen")
    error = _apply(cluster, namespace, changed)
    assert "spec: Invalid value" in error and "immutable" in error, error
    stored = json.loads(
        cluster.kubectl("get", "networkchaos", "frozen", "-n", namespace, "-o", "json")
    )
    assert stored["spec"]["loss"] == {"loss": "25", "correlation": "0"}  # defaulted, unchanged
    assert stored["spec"]["direction"] == "to"


def test_kubectl_names_categories_and_columns(cluster: Cluster, crds: None, namespace: str) -> None:
    assert _apply(cluster, namespace, doc("PodChaos", POD_KILL, name="pk")) == ""
    assert _apply(cluster, namespace, doc("NetworkChaos", LOSS, name="nl")) == ""
    listed = cluster.kubectl("get", "chaos", "-n", namespace, "-o", "name").split()
    assert sorted(listed) == [
        "networkchaos.chaos.faultline.dev/nl",
        "podchaos.chaos.faultline.dev/pk",
    ]
    table = cluster.kubectl("get", "flpod", "-n", namespace)
    header, row = table.splitlines()[:2]
    assert header.split() == ["NAME", "ACTION", "PHASE", "INJECTED", "TARGETS", "AGE"]
    assert row.split()[:2] == ["pk", "pod-kill"]


def test_external_targets_are_judged_as_kubernetes_judges_ips_and_cidrs(
    cluster: Cluster, crds: None, namespace: str
) -> None:
    """The Python twins of isIP/isCIDR (backend/spec/k8scel.py) against the server's own: one
    manifest carries every case, and both sides must refuse exactly the same entries."""
    targets = [t for t, _ in EXTERNAL_TARGET_CASES]
    manifest = doc("NetworkChaos", {**PARTITION, "externalTargets": targets})
    error = _apply(cluster, namespace, manifest, "--dry-run=server")
    server = {i for i in range(len(targets)) if f"spec.externalTargets[{i}]: " in error}
    expected = {i for i, (_, ok) in enumerate(EXTERNAL_TARGET_CASES) if not ok}
    assert server == expected, [targets[i] for i in server ^ expected]
    offline = validate_manifest(manifest)
    assert {e.path for e in offline} == {f"spec.externalTargets[{i}]" for i in expected}
    for e in offline:
        assert str(e) in error, (str(e), error)


def test_a_device_carrying_rule_text_is_refused_and_not_stored(
    cluster: Cluster, crds: None, namespace: str
) -> None:
    payload = doc("NetworkChaos", {**LOSS, "device": 'eth0" drop\nflush ruleset'}, name="dev")
    error = _apply(cluster, namespace, payload)
    assert "spec.device: Invalid value" in error and "should match" in error, error
    assert cluster.kubectl("get", "networkchaos", "-n", namespace, "-o", "name").split() == []
    assert _apply(cluster, namespace, doc("NetworkChaos", {**LOSS, "device": "eth0"})) == ""


def test_a_duration_past_what_go_can_hold_is_refused_naming_the_field(
    cluster: Cluster, crds: None, namespace: str
) -> None:
    # Go's time.ParseDuration overflows past ~2562047h, so the server's CEL rule fails to evaluate
    # rather than compare ("type conversion error ... evaluating rule: <message>"); it must still
    # refuse, at the same field and with the same bound the offline validator names.
    manifest = doc("NetworkChaos", {**LOSS, "duration": "9999999999h"})
    error = _apply(cluster, namespace, manifest, "--dry-run=server")
    assert "spec.duration: Invalid value" in error and "must be at most 168h" in error, error
    assert [str(e) for e in validate_manifest(manifest)] == [
        'spec.duration: Invalid value: "string": must be at most 168h (7 days)'
    ]
