"""mTLS between the operator and chaosd, installed by the chart, end to end (issue 9).

One release in `auth.mode: mtls` with no cert-manager in the cluster, so the chart generates the
CA and both certificate pairs. A NetworkChaos applied with kubectl takes effect (the operator
reached chaosd with its client certificate); chaosd refuses a client without one. A `helm
upgrade` then switches to a user-supplied CA: the operator renews the fault's lease with the new
pair, the old pair is refused, and `helm uninstall` still recovers the fault through chaosd.
The same release runs an Experiment whose probe is a Job, under the chart's RBAC (also checked
rule by rule with `kubectl auth can-i`).
"""

from __future__ import annotations

import base64
import datetime
import json
import ssl
from pathlib import Path
from typing import Any

import httpx
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from backend.clients.chaosd import ChaosdClient, ChaosdError, ChaosdTLS
from tests.e2e.helm_release import (
    CHART,
    Release,
    apply,
    demo_pod,
    image_fixture,  # noqa: F401 (fixture)
    install,
    is_ready,
    partition_works,
    pods_of,
    ready_pod,
    release_fixture,  # noqa: F401 (fixture)
    release_values,
    uninstall_leaves_nothing,
)

pytestmark = [pytest.mark.cluster, pytest.mark.slow, pytest.mark.timeout(1500)]
MTLS = {"auth": {"mode": "mtls"}}


def _pair(rel: Release, secret: str, into: Path) -> ChaosdTLS:
    """The operator's client pair, as the chart stored it, written to files."""
    data = rel.kubectl_json("get", "secret", "-n", rel.namespace, secret)["data"]
    into.mkdir(parents=True, exist_ok=True)
    for key in ("ca.crt", "tls.crt", "tls.key"):
        (into / key).write_bytes(base64.b64decode(data[key]))
    return ChaosdTLS(
        into / "ca.crt", into / "tls.crt", into / "tls.key", f"{rel.name}-faultline-chaosd"
    )


def _chaosd_url(rel: Release) -> str:
    selector = f"app.kubernetes.io/instance={rel.name},app.kubernetes.io/component=chaosd"
    (pod,) = pods_of(rel, rel.namespace, selector)
    return f"https://{pod['status']['podIP']}:9443"


def _refused_without_certificate(url: str, tls: ChaosdTLS) -> str:
    """The server is trusted (its CA is given) but no client certificate is sent."""
    ctx = ssl.create_default_context(cafile=str(tls.ca_file))
    ext = {"sni_hostname": tls.server_name}
    with pytest.raises(httpx.HTTPError) as e, httpx.Client(verify=ctx) as http:
        http.get(f"{url}/targets", extensions=ext)
    return str(e.value)


def _user_ca(rel: Release) -> bytes:
    """A CA of the user's, stored as the kubernetes.io/tls Secret the chart is pointed at."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "user CA for faultline e2e")])
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=2))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .sign(key, hashes.SHA256())
    )
    pem = cert.public_bytes(serialization.Encoding.PEM)
    key_pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    manifest = {
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": {"name": "user-ca", "namespace": rel.namespace},
        "type": "kubernetes.io/tls",
        "data": {
            "tls.crt": base64.b64encode(pem).decode(),
            "tls.key": base64.b64encode(key_pem).decode(),
        },
    }
    rel.cluster.kubectl("apply", "-f", "-", stdin=json.dumps(manifest))
    return pem


def _probe_rbac(rel: Release) -> None:
    """What the experiment engine calls for a Job-mode probe, as the operator's ServiceAccount."""
    sa = f"system:serviceaccount:{rel.namespace}:{rel.name}-faultline-operator"

    def can(verb: str, resource: str) -> bool:
        out = rel.cluster.kubectl(
            "auth", "can-i", verb, resource, "-n", rel.workloads, f"--as={sa}", check=False
        )
        return out.strip() == "yes"

    allowed = [("create", "jobs.batch"), ("delete", "jobs.batch"), ("list", "pods")]
    allowed += [("get", "pods/log"), ("create", "experiments.chaos.faultline.dev")]
    assert [a for a in allowed if not can(*a)] == []
    # Least privilege: nothing the engine does not call.
    denied = [("update", "jobs.batch"), ("create", "pods"), ("get", "secrets")]
    assert [d for d in denied if can(*d)] == []


def _experiment_runs_a_probe_job(rel: Release, web_ip: str) -> None:
    """An Experiment whose probe runs as a Job (the in-cluster default) under the chart's RBAC:
    the Job is created, its pod's log is read into samples, a verdict is written, the Job goes."""
    apply(rel, demo_pod("victim", "victim"))
    ready_pod(rel, "victim")
    probe = {"name": "web", "type": "load", "url": f"http://{web_ip}:8080/", "workers": 1}
    kill = {
        "name": "kill-victim",
        "type": "PodChaos",
        "podChaos": {
            "action": "pod-kill",
            "mode": "one",
            "selector": {"labelSelectors": {"app": "victim"}},
        },
    }
    doc = {
        "apiVersion": "chaos.faultline.dev/v1alpha1",
        "kind": "Experiment",
        "metadata": {"name": "probe-job"},
        "spec": {
            "hypothesis": {
                "title": "web keeps serving while another pod dies",
                "probes": [probe],
                "tolerances": [{"probe": "web", "atLeastPercentOfBaseline": 50, "during": "fault"}],
            },
            "faults": [kill],
            "timing": {"baseline": "5s", "faultDuration": "5s", "recoveryDeadline": "20s"},
        },
    }
    apply(rel, doc)

    def jobs() -> list[str]:
        items = rel.kubectl_json("get", "jobs", "-n", rel.workloads)["items"]
        return [j["metadata"]["name"] for j in items]

    created: list[str] = []

    def job_created() -> bool:
        created[:] = jobs()
        return bool(created)

    rel.cluster.wait_for("probe Job created", job_created, timeout=120)

    def status() -> dict[str, Any]:
        obj = rel.kubectl_json("get", "experiment", "-n", rel.workloads, "probe-job")
        return dict(obj.get("status") or {})

    rel.cluster.wait_for("experiment finished", lambda: status().get("phase") == "Finished", 240)
    final = status()
    assert final.get("verdict"), final
    assert final["probeJobs"] == created  # the Job the operator created is the run's probe
    metrics = final["metrics"][0]
    assert metrics["samples"] > 0 and metrics["baselineQps"] > 0  # read from the Job's pod log
    rel.cluster.wait_for("probe Job deleted", lambda: not jobs(), timeout=120)


def test_mtls_generated_then_user_ca(release: Release, tmp_path: Path) -> None:
    rel = release
    install(rel, privileged=False, extra=MTLS)
    secret = rel.kubectl_json(
        "get", "secret", "-n", rel.namespace, f"{rel.name}-faultline-chaosd-tls"
    )
    assert secret["metadata"]["annotations"]["faultline.dev/ca"] == "generated"  # no cert-manager
    _probe_rbac(rel)

    apply(rel, demo_pod("web", "web"))
    apply(rel, demo_pod("client", "client"))
    ip, pid = partition_works(rel, "cut-web")  # the operator reached chaosd over mTLS

    url = _chaosd_url(rel)
    chart_pair = _pair(rel, f"{rel.name}-faultline-operator-tls", tmp_path / "chart-ca")
    with ChaosdClient(url, token=None, tls=chart_pair) as daemon:
        (target,) = daemon.list_targets()
    assert target["applied"], target
    _refused_without_certificate(url, chart_pair)
    _experiment_runs_a_probe_job(rel, ip)

    # Switch to the user's CA: both pairs are re-signed and the pods roll (checksum/auth).
    ca_pem = _user_ca(rel)
    values = release_values(rel, privileged=False)
    values["auth"] = {"mode": "mtls", "mtls": {"generated": {"caSecret": "user-ca"}}}
    rel.helm(
        "upgrade", rel.name, str(CHART), "-n", rel.namespace, "--wait", "--timeout=5m",
        values=values,
    )  # fmt: skip
    secret = rel.kubectl_json(
        "get", "secret", "-n", rel.namespace, f"{rel.name}-faultline-chaosd-tls"
    )
    assert base64.b64decode(secret["data"]["ca.crt"]) == ca_pem
    instance = f"app.kubernetes.io/instance={rel.name}"

    def rolled() -> bool:
        pods = pods_of(rel, rel.namespace, instance)
        live = [p for p in pods if not p["metadata"].get("deletionTimestamp")]
        # operator x2, chaosd, dashboard, webhook (as `install` counted them)
        return len(live) == 5 and all(is_ready(p) for p in live) and len(live) == len(pods)

    rel.cluster.wait_for("pods rolled to the user CA", rolled, timeout=300)
    url = _chaosd_url(rel)
    user_pair = _pair(rel, f"{rel.name}-faultline-operator-tls", tmp_path / "user-ca")
    with pytest.raises(ChaosdError), ChaosdClient(url, token=None, tls=chart_pair) as old:
        old.list_targets()  # chaosd no longer trusts the chart's old CA
    _refused_without_certificate(url, user_pair)

    # Only the operator pushes and renews leases: the fault back on the new chaosd (which
    # recovered everything when it started) and an expiry moving forward mean the operator talks
    # to it with the user-CA pair. The push comes with the operator's next reconcile: wait.
    with ChaosdClient(url, token=None, tls=user_pair) as daemon:

        def applied() -> bool:
            now = daemon.get_target(target["id"])
            return now is not None and bool(now["applied"])

        rel.cluster.wait_for(
            "the fault re-applied on the new chaosd over the user CA", applied, 120
        )
        first = daemon.get_target(target["id"])
        assert first is not None

        def renewed() -> bool:
            now = daemon.get_target(target["id"])
            return now is not None and now["lease_expiry"] > first["lease_expiry"]

        rel.cluster.wait_for("lease renewed by the operator over the user CA", renewed, 120)
    uninstall_leaves_nothing(rel, ip, pid, kept=())
