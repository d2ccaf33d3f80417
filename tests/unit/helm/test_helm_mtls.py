"""The chart's mTLS material and the operator's wiring to it, from `helm template`.

The certificates are checked with `cryptography`: both pairs chain to the CA they ship with, the
serving certificate carries the name the operator verifies, and the operator is told where the
files are. (That the real operator and chaosd accept them is tests/e2e/test_helm_mtls.py.)
"""

from __future__ import annotations

import base64
import subprocess
from collections.abc import Callable
from typing import Any

import pytest
from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa

RenderFn = Callable[..., Any]
MTLS = {"auth": {"mode": "mtls"}}


def _cert(secret: dict[str, Any], key: str) -> x509.Certificate:
    return x509.load_pem_x509_certificate(base64.b64decode(secret["data"][key]))


def _signed_by(cert: x509.Certificate, ca: x509.Certificate) -> bool:
    public = ca.public_key()
    try:
        if isinstance(public, rsa.RSAPublicKey):
            assert cert.signature_hash_algorithm is not None
            public.verify(
                cert.signature,
                cert.tbs_certificate_bytes,
                padding.PKCS1v15(),
                cert.signature_hash_algorithm,
            )
        elif isinstance(public, ec.EllipticCurvePublicKey):
            assert cert.signature_hash_algorithm is not None
            public.verify(
                cert.signature, cert.tbs_certificate_bytes, ec.ECDSA(cert.signature_hash_algorithm)
            )
        else:
            return False
    except Exception:
        return False
    return True


def test_generated_ca_signs_both_pairs(render: RenderFn) -> None:
    r = render(values=MTLS)  # auto: no cert-manager API under `helm template`, so generated
    assert "Certificate" not in r.kinds()
    server = r.find("Secret", "-chaosd-tls")
    client = r.find("Secret", "-operator-tls")
    assert server["type"] == client["type"] == "kubernetes.io/tls"
    ca = _cert(server, "ca.crt")
    assert _cert(client, "ca.crt") == ca
    serving, client_cert = _cert(server, "tls.crt"), _cert(client, "tls.crt")
    assert _signed_by(serving, ca) and _signed_by(client_cert, ca)
    assert not _signed_by(
        serving, _cert(render(values=MTLS).find("Secret", "-chaosd-tls"), "ca.crt")
    )
    names = serving.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert "fl-faultline-chaosd" in names.get_values_for_type(x509.DNSName)
    assert ca.extensions.get_extension_for_class(x509.BasicConstraints).value.ca is True


def test_operator_and_chaosd_mount_their_pairs(render: RenderFn) -> None:
    r = render(values=MTLS)
    op = r.find("Deployment", "-operator")["spec"]["template"]["spec"]
    env = {e["name"]: e.get("value") for e in op["containers"][0]["env"]}
    assert env["FAULTLINE_CHAOSD_SCHEME"] == "https"
    assert env["FAULTLINE_CHAOSD_TLS_SERVER_NAME"] == "fl-faultline-chaosd"
    mount = next(
        m for m in op["containers"][0]["volumeMounts"] if m["name"] == "chaosd-credentials"
    )
    assert env["FAULTLINE_CHAOSD_TLS_CERT_FILE"].startswith(mount["mountPath"] + "/")
    volume = next(v for v in op["volumes"] if v["name"] == "chaosd-credentials")
    assert volume["secret"]["secretName"] == "fl-faultline-operator-tls"
    ds = r.find("DaemonSet", "-chaosd")["spec"]["template"]["spec"]
    volume = next(v for v in ds["volumes"] if v["name"] == "credentials")
    assert volume["secret"]["secretName"] == "fl-faultline-chaosd-tls"


def _chaosd_arg(r: Any, flag: str) -> str:
    args = r.find("DaemonSet", "-chaosd")["spec"]["template"]["spec"]["containers"][0]["args"]
    return str(args[args.index(flag) + 1])


def test_chaosd_accepts_only_the_operator_certificate_identity(render: RenderFn) -> None:
    """chaosd is told the identity the operator's client certificate really carries, whichever
    source issues it; with your own Secrets you name it."""
    r = render(values=MTLS)
    client_cert = _cert(r.find("Secret", "-operator-tls"), "tls.crt")
    (cn,) = client_cert.subject.get_attributes_for_oid(x509.NameOID.COMMON_NAME)
    assert _chaosd_arg(r, "--client-identity") == cn.value == "fl-faultline-operator"
    cm = render(values={"auth": {"mode": "mtls", "mtls": {"source": "certManager"}}})
    (cert,) = [
        o for o in cm.objects if o["kind"] == "Certificate" and "operator" in o["metadata"]["name"]
    ]
    assert _chaosd_arg(cm, "--client-identity") == cert["spec"]["commonName"]
    mine = {"source": "existingSecrets", "clientIdentity": "spiffe://corp/op"}
    mine |= {"existingSecrets": {"server": "s", "client": "c"}}
    own = render(values={"auth": {"mode": "mtls", "mtls": mine}})
    assert _chaosd_arg(own, "--client-identity") == "spiffe://corp/op"
    token_mode = render()
    ds = token_mode.find("DaemonSet", "-chaosd")["spec"]["template"]["spec"]["containers"][0]
    assert "--client-identity" not in ds["args"] and "--kubernetes" in ds["args"]


def test_cert_manager_when_asked(render: RenderFn) -> None:
    r = render(values={"auth": {"mode": "mtls", "mtls": {"source": "certManager"}}})
    assert {"Certificate", "Issuer"} <= r.kinds()
    assert "Secret" not in r.kinds(besides="webhook")
    auto = render("--api-versions", "cert-manager.io/v1", values=MTLS)
    assert "Certificate" in auto.kinds() and "Secret" not in auto.kinds(besides="webhook")


def test_user_ca_needs_a_cluster_to_read_it(render: RenderFn) -> None:
    values = {"auth": {"mode": "mtls", "mtls": {"generated": {"caSecret": "my-ca"}}}}
    with pytest.raises(subprocess.CalledProcessError) as e:
        render(values=values)
    assert "auth.mtls.generated.caSecret: Secret faultline/my-ca" in e.value.stderr


def test_probe_jobs_are_allowed_and_use_the_release_image(render: RenderFn) -> None:
    r = render()
    rules = r.find("ClusterRole", "-operator")["rules"]
    granted = {
        (group, res, verb)
        for rule in rules
        for group in rule["apiGroups"]
        for res in rule["resources"]
        for verb in rule["verbs"]
    }
    # Exactly what the experiment engine calls: create/delete Jobs, list pods, read logs.
    assert {("batch", "jobs", "create"), ("batch", "jobs", "delete")} <= granted
    assert ("", "pods", "list") in granted and ("", "pods/log", "get") in granted
    assert not {v for g, res, v in granted if res == "jobs"} - {"create", "delete"}
    op = r.find("Deployment", "-operator")["spec"]["template"]["spec"]["containers"][0]
    env = {e["name"]: e.get("value") for e in op["env"]}
    assert env["FAULTLINE_PROBE_IMAGE"] == op["image"]
