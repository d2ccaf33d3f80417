"""mTLS between the operator and chaosd, installed by the chart, end to end (issue 9).

One release in `auth.mode: mtls` with no cert-manager in the cluster, so the chart generates the
CA and both certificate pairs. A NetworkChaos applied with kubectl takes effect (the operator
reached chaosd with its client certificate); chaosd refuses a client without one. A `helm
upgrade` then switches to a user-supplied CA: the operator renews the fault's lease with the new
pair, the old pair is refused, so is a pair the new CA signed for a name other than the
operator's (issue 13: the CA alone is not enough), and `helm uninstall` still recovers the fault
through chaosd.
The same release runs an Experiment whose probe is a Job, under the chart's RBAC (also checked
rule by rule with `kubectl auth can-i`).
"""

from __future__ import annotations

import base64
import datetime
import json
import select
import socket
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
from chaosd.cri_grpc import CRIClient
from tests.e2e.helm_release import (
    CHART,
    Release,
    image_fixture,  # noqa: F401 (fixture)
    install,
    partition_works,
    pods_of,
    release_fixture,  # noqa: F401 (fixture)
    release_values,
    uninstall_leaves_nothing,
)
from tests.support.pods import demo_pod, reports_ready

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


HUGE = 150 * 1024 * 1024
CHUNK = b"x" * (1024 * 1024)


def _chaosd_pid(rel: Release) -> int:
    """chaosd's host PID, as the node's container runtime reports it."""
    selector = f"app.kubernetes.io/instance={rel.name},app.kubernetes.io/component=chaosd"
    (pod,) = pods_of(rel, rel.namespace, selector)
    client = CRIClient(Path(rel.cluster.settings.containerd_socket))
    try:
        pid = client.main_pid(pod["status"]["containerStatuses"][0]["containerID"]).pid
    finally:
        client.close()
    assert b"chaosd" in Path(f"/proc/{pid}/cmdline").read_bytes()  # no wrapper in between
    return pid


def _rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise AssertionError(f"no VmRSS for {pid}")


def _answer_so_far(sock: ssl.SSLSocket) -> bytes | None:
    """What chaosd has answered, without waiting; None when nothing yet (a readable socket may
    only hold TLS 1.3 session tickets). b"" means chaosd closed the connection."""
    if not select.select([sock], [], [], 0)[0] and not sock.pending():
        return None
    sock.setblocking(False)
    try:
        return sock.recv(65536)
    except (ssl.SSLWantReadError, BlockingIOError):
        return None
    finally:
        sock.settimeout(30)


def _push_150mb(url: str, tls: ChaosdTLS) -> tuple[int, int, str]:
    """PUT a 150 MB chunked body (no Content-Length to refuse it by) over mTLS, one chunk at a
    time while chaosd has not answered. Returns (status, bytes sent, answer)."""
    host, port = url.removeprefix("https://").rsplit(":", 1)
    raw = socket.create_connection((host, int(port)), timeout=30)
    sock = tls.context().wrap_socket(raw, server_hostname=tls.server_name)
    sent, answer = 0, b""
    try:
        sock.sendall(
            b"PUT /targets/huge HTTP/1.1\r\nHost: chaosd\r\nContent-Type: application/json\r\n"
            b"Transfer-Encoding: chunked\r\n\r\n"
        )
        while sent < HUGE:
            early = _answer_so_far(sock)
            if early is not None:
                answer += early
                break
            sock.sendall(b"%x\r\n%s\r\n" % (len(CHUNK), CHUNK))
            sent += len(CHUNK)
    except OSError:
        pass  # chaosd hung up mid-chunk; its answer may still be readable
    try:
        while chunk := sock.recv(65536):
            answer += chunk
    except OSError:
        pass  # closed or reset after the answer: what arrived before is what counts
    finally:
        sock.close()
    text = answer.decode(errors="replace")
    return int(text.split()[1]) if text.startswith("HTTP/") else 0, sent, text


def _huge_bodies_are_not_buffered(
    rel: Release, url: str, operator: ChaosdTLS, other: ChaosdTLS
) -> None:
    """Issue 13's acceptance on the installed chaosd: 150 MB from a refused identity (403) and
    from the operator itself (413), each without chaosd's RSS growing by 20 MB."""
    pid = _chaosd_pid(rel)
    for who, pair, expected in (("impostor", other, 403), ("operator", operator, 413)):
        before = _rss_mib(pid)
        status, sent, answer = _push_150mb(url, pair)
        after = _rss_mib(pid)
        print(
            f"\nin-cluster chaosd pid {pid}, 150 MB chunked PUT as the {who} -> {status}; client "
            f"pushed {sent / 2**20:.1f} MiB; VmRSS {before:.1f} -> {after:.1f} MiB"
        )
        assert status == expected, answer
        assert sent < HUGE and after - before < 20


def _user_ca(rel: Release) -> tuple[bytes, ec.EllipticCurvePrivateKey]:
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
    return pem, key


def _impostor(
    rel: Release, ca_pem: bytes, ca_key: ec.EllipticCurvePrivateKey, into: Path
) -> ChaosdTLS:
    """A client pair the right CA signed, for a name that is not the operator's."""
    ca = x509.load_pem_x509_certificate(ca_pem)
    key = ec.generate_private_key(ec.SECP256R1())
    now = datetime.datetime.now(datetime.UTC)
    name = f"{rel.name}-faultline-dashboard"
    cert = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)]))
        .issuer_name(ca.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .sign(ca_key, hashes.SHA256())
    )
    into.mkdir(parents=True, exist_ok=True)
    (into / "ca.crt").write_bytes(ca_pem)
    (into / "tls.crt").write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    (into / "tls.key").write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return ChaosdTLS(
        into / "ca.crt", into / "tls.crt", into / "tls.key", f"{rel.name}-faultline-chaosd"
    )


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
    rel.apply(demo_pod("victim", "victim"))
    rel.ready_pod("victim")
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
    rel.apply(doc)

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

    rel.apply(demo_pod("web", "web"))
    rel.apply(demo_pod("client", "client"))
    ip, pid = partition_works(rel, "cut-web")  # the operator reached chaosd over mTLS

    url = _chaosd_url(rel)
    chart_pair = _pair(rel, f"{rel.name}-faultline-operator-tls", tmp_path / "chart-ca")
    with ChaosdClient(url, token=None, tls=chart_pair) as daemon:
        (target,) = daemon.list_targets()
    assert target["applied"], target
    _refused_without_certificate(url, chart_pair)
    _experiment_runs_a_probe_job(rel, ip)

    # Switch to the user's CA: both pairs are re-signed and the pods roll (checksum/auth).
    ca_pem, ca_key = _user_ca(rel)
    instance = f"app.kubernetes.io/instance={rel.name}"
    # The pods that hold a pair (checksum/auth): operator (two) and chaosd (one node). Others,
    # the webhook's among them, do not roll.
    holders = f"{instance},app.kubernetes.io/component in (operator,chaosd)"
    before = {p["metadata"]["uid"] for p in pods_of(rel, rel.namespace, holders)}
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

    def rolled() -> bool:
        pods = pods_of(rel, rel.namespace, holders)
        fresh = [p for p in pods if p["metadata"]["uid"] not in before]
        return len(fresh) == len(pods) == 3 and all(reports_ready(p) for p in fresh)

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

        # The CA is not enough: a certificate it signed for another name is refused (403, both
        # names quoted) and can neither read nor remove the operator's fault.
        impostor = _impostor(rel, ca_pem, ca_key, tmp_path / "impostor")
        with ChaosdClient(url, token=None, tls=impostor) as other:
            for call in (other.list_targets, lambda: other.delete_target(target["id"])):
                with pytest.raises(ChaosdError) as refused:
                    call()
                assert refused.value.status == 403, refused.value
                message = str(refused.value)
                assert "client certificate identity not allowed" in message
                assert f"'{rel.name}-faultline-dashboard'" in message
                assert f"'{rel.name}-faultline-operator'" in message
        still = daemon.get_target(target["id"])
        assert still is not None and still["applied"], still
    _huge_bodies_are_not_buffered(rel, url, user_pair, impostor)
    uninstall_leaves_nothing(rel, ip, pid, kept=())
