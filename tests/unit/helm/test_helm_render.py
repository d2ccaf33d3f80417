"""The chart renders manifests that real Kubernetes schemas accept, for defaults and opt-ins.

Validation is `kubeconform -strict` against schemas generated from the Kubernetes OpenAPI
documents and from Faultline's CRDs (hack/kubeconform_schemas.py): unknown fields, wrong types
and duplicate keys are errors. The first tests prove the validator really rejects bad input, so
"valid" below means something.
"""

from __future__ import annotations

import re
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

RenderFn = Callable[..., Any]
KubeconformFn = Callable[..., subprocess.CompletedProcess[str]]
HERE = Path(__file__).resolve().parent
VALUES = HERE / "values"
CERT_MANAGER_KINDS = {"Certificate", "Issuer"}


def _summary(out: subprocess.CompletedProcess[str]) -> dict[str, int]:
    m = re.search(
        r"(\d+) resources? found.*Valid: (\d+), Invalid: (\d+), Errors: (\d+), Skipped: (\d+)",
        out.stdout,
    )
    assert m, f"no kubeconform summary in: {out.stdout}\n{out.stderr}"
    found, valid, invalid, errors, skipped = map(int, m.groups())
    return {
        "found": found,
        "valid": valid,
        "invalid": invalid,
        "errors": errors,
        "skipped": skipped,
    }


def test_kubeconform_rejects_unknown_field_and_wrong_type(
    render: RenderFn, kubeconform: KubeconformFn
) -> None:
    ds = render().find("DaemonSet", "-chaosd")
    ds["spec"]["template"]["spec"]["hostPd"] = True
    ds["spec"]["template"]["spec"]["containers"][0]["securityContext"]["privileged"] = "no"
    out = kubeconform(yaml.safe_dump(ds))
    assert out.returncode != 0
    assert "additional properties 'hostPd' not allowed" in out.stdout
    assert "securityContext/privileged" in out.stdout
    assert _summary(out)["invalid"] == 1


def test_crd_schemas_validate_faultline_objects(kubeconform: KubeconformFn) -> None:
    good: dict[str, Any] = {
        "apiVersion": "chaos.faultline.dev/v1alpha1",
        "kind": "PodChaos",
        "metadata": {"name": "kill-one", "namespace": "shop"},
        "spec": {"action": "pod-kill", "mode": "one", "selector": {"namespaces": ["shop"]}},
    }
    ok = kubeconform(yaml.safe_dump(good))
    assert ok.returncode == 0, ok.stdout + ok.stderr
    assert _summary(ok) == {"found": 1, "valid": 1, "invalid": 0, "errors": 0, "skipped": 0}

    bad = {**good, "spec": {**good["spec"], "acton": "pod-kill"}}
    out = kubeconform(yaml.safe_dump(bad))
    assert out.returncode != 0
    assert "'acton' not allowed" in out.stdout


def test_default_install_is_valid(render: RenderFn, kubeconform: KubeconformFn) -> None:
    rendered = render(crds=True)
    out = kubeconform(rendered.text)
    assert out.returncode == 0, out.stdout + out.stderr
    summary = _summary(out)
    assert summary == {
        "found": len(rendered.objects),
        "valid": len(rendered.objects),
        "invalid": 0,
        "errors": 0,
        "skipped": 0,
    }
    assert {"Deployment", "DaemonSet", "Service", "Secret", "CustomResourceDefinition"} <= (
        rendered.kinds()
    )


@pytest.mark.parametrize("values_file", ["hardened.yaml", "privileged.yaml"])
def test_non_default_install_is_valid(
    render: RenderFn, kubeconform: KubeconformFn, values_file: str
) -> None:
    rendered = render("--values", str(VALUES / values_file), crds=True)
    # cert-manager's CRDs are not ours to ship, so only its two kinds are skipped, by name.
    out = kubeconform(rendered.text, "-skip", ",".join(sorted(CERT_MANAGER_KINDS)))
    assert out.returncode == 0, out.stdout + out.stderr
    skipped = [o for o in rendered.objects if o["kind"] in CERT_MANAGER_KINDS]
    assert all(o["apiVersion"] == "cert-manager.io/v1" for o in skipped)
    summary = _summary(out)
    assert summary["invalid"] == summary["errors"] == 0
    assert summary["skipped"] == len(skipped)
    assert summary["valid"] == len(rendered.objects) - len(skipped)


def test_hardened_values_reach_every_object(render: RenderFn) -> None:
    r = render("--values", str(VALUES / "hardened.yaml"))
    assert {"Ingress", "NetworkPolicy", "Certificate", "Issuer"} <= r.kinds()
    assert "Secret" not in r.kinds(besides="webhook")  # mTLS: no shared token is generated
    assert all(o["metadata"]["labels"]["team"] == "platform" for o in r.objects)

    ds = r.find("DaemonSet", "-chaosd")["spec"]["template"]
    assert ds["spec"]["nodeSelector"] == {"kubernetes.io/os": "linux"}
    assert ds["metadata"]["annotations"]["example.com/scrape"] == "true"
    chaosd = ds["spec"]["containers"][0]
    assert chaosd["livenessProbe"]["tcpSocket"] == {"port": "api"}  # kubelet has no client cert
    assert "--client-ca" in chaosd["args"]  # chaosd serve's own flag names
    mounts = {m["name"]: m["mountPath"] for m in chaosd["volumeMounts"]}
    assert mounts["cri-socket-dir"] == "/host/cri"

    op = r.find("Deployment", "-operator")["spec"]["template"]["spec"]
    assert op["containers"][0]["image"] == "registry.example.com/faultline/operator:0.1.0-rc1"
    assert op["tolerations"][0]["key"] == "dedicated"
    assert "podAntiAffinity" in op["affinity"]

    # Each side mounts the certificate cert-manager writes for it, signed by the chart's CA.
    certs = {o["metadata"]["name"]: o["spec"] for o in r.objects if o["kind"] == "Certificate"}
    server = certs["fl-faultline-chaosd-tls"]
    client = certs["fl-faultline-operator-tls"]
    assert "server auth" in server["usages"] and "client auth" in client["usages"]
    ds_secret = next(v for v in ds["spec"]["volumes"] if v["name"] == "credentials")
    op_secret = next(v for v in op["volumes"] if v["name"] == "chaosd-credentials")
    assert ds_secret["secret"]["secretName"] == server["secretName"]
    assert op_secret["secret"]["secretName"] == client["secretName"]
    issuers = {o["metadata"]["name"] for o in r.objects if o["kind"] == "Issuer"}
    assert server["issuerRef"]["name"] in issuers and client["issuerRef"]["name"] in issuers
    server_name = next(
        e["value"]
        for e in op["containers"][0]["env"]
        if e["name"] == "FAULTLINE_CHAOSD_TLS_SERVER_NAME"
    )
    assert server_name in server["dnsNames"]

    ing = r.find("Ingress", "-dashboard")
    backend = ing["spec"]["rules"][0]["http"]["paths"][0]["backend"]["service"]
    assert backend["name"] == r.find("Service", "-dashboard")["metadata"]["name"]


def test_chart_crds_match_generated_crds() -> None:
    """helm/faultline/crds is a byte-for-byte copy of crds/ (fix: hack/sync-chart-crds.sh)."""
    repo = HERE.parents[2]
    source = {p.name: p.read_bytes() for p in (repo / "crds").glob("*.yaml")}
    chart = {p.name: p.read_bytes() for p in (repo / "helm/faultline/crds").glob("*.yaml")}
    assert source, "crds/ holds no CRDs"
    assert sorted(chart) == sorted(source), "run hack/sync-chart-crds.sh"
    drifted = [name for name in source if chart[name] != source[name]]
    assert not drifted, f"{drifted} differ from crds/: run hack/sync-chart-crds.sh"


def test_every_crd_is_installed(render: RenderFn) -> None:
    crds = render(crds=True)
    names = {o["metadata"]["name"] for o in crds.objects if o["kind"] == "CustomResourceDefinition"}
    expected = {
        yaml.safe_load(p.read_text())["metadata"]["name"]
        for p in Path(HERE.parents[2] / "crds").glob("*.yaml")
    }
    assert names == expected


@pytest.mark.parametrize(
    ("values", "absent"),
    [
        ({"chaosd": {"enabled": False}}, "DaemonSet"),
        ({"dashboard": {"enabled": False}}, "Service"),
        ({"rbac": {"create": False}}, "ClusterRole"),
        ({"operator": {"replicas": 1, "leaderElection": {"enabled": False}}}, "Role"),  # its own
    ],
)
def test_switched_off_parts_are_gone_and_the_rest_stays_valid(
    render: RenderFn, kubeconform: KubeconformFn, values: dict[str, Any], absent: str
) -> None:
    rendered = render(values={**values, "networkPolicy": {"enabled": True}})
    if absent == "Role":  # the operator's; the dashboard and webhook keep their own
        roles = rendered.find_all("Role")
        assert not [r for r in roles if r["metadata"]["name"].endswith("-operator-leader-election")]
    else:
        assert absent not in rendered.kinds(besides="webhook")
    assert "Deployment" in rendered.kinds()
    out = kubeconform(rendered.text)
    assert out.returncode == 0, out.stdout + out.stderr
    assert _summary(out)["valid"] == len(rendered.objects)
