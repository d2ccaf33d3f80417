"""The dev cluster's certificates, service-account keys and kubeconfigs.

Made with `cryptography` rather than openssl/cfssl so nothing extra has to be installed. One CA
signs everything; ECDSA P-256 keys keep generation instant. Files are only written when missing
(or when the node address they name changed), so `up` can run any number of times.
"""

from __future__ import annotations

import base64
import datetime
import ipaddress
from dataclasses import dataclass
from pathlib import Path

import yaml
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from devcluster.settings import API_PORT, API_SERVICE_IP, CLUSTER_DOMAIN, Settings

VALIDITY = datetime.timedelta(days=3650)


@dataclass(frozen=True)
class Identity:
    """A certificate to issue: who it names and what it may be used for."""

    name: str  # file stem under pki/
    common_name: str
    organization: str | None = None
    server: bool = False
    client: bool = True
    dns_names: tuple[str, ...] = ()
    ip_addresses: tuple[str, ...] = ()


def identities(s: Settings) -> list[Identity]:
    node = f"system:node:{s.node_name}"
    api_dns = (
        "kubernetes",
        "kubernetes.default",
        "kubernetes.default.svc",
        f"kubernetes.default.svc.{CLUSTER_DOMAIN}",
        "localhost",
        s.hostname,
        s.node_name,
    )
    return [
        Identity(
            "apiserver",
            "kube-apiserver",
            server=True,
            client=False,
            dns_names=api_dns,
            ip_addresses=(API_SERVICE_IP, "127.0.0.1", s.node_ip),
        ),
        # system:masters lets the kubelet's webhook authorizer allow exec/logs without RBAC setup.
        Identity("apiserver-kubelet-client", "kube-apiserver-kubelet-client", "system:masters"),
        Identity("admin", "faultline-admin", "system:masters"),
        Identity("controller-manager", "system:kube-controller-manager"),
        Identity("scheduler", "system:kube-scheduler"),
        Identity("kube-proxy", "system:kube-proxy", "system:node-proxier"),
        Identity("kubelet", node, "system:nodes"),
        Identity(
            "kubelet-serving",
            node,
            "system:nodes",
            server=True,
            client=False,
            dns_names=(s.node_name, s.hostname, "localhost"),
            ip_addresses=(s.node_ip, "127.0.0.1"),
        ),
    ]


def _write_key(path: Path) -> ec.EllipticCurvePrivateKey:
    key = ec.generate_private_key(ec.SECP256R1())
    path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.TraditionalOpenSSL,
            serialization.NoEncryption(),
        )
    )
    path.chmod(0o600)
    return key


def _load_key(path: Path) -> ec.EllipticCurvePrivateKey:
    key = serialization.load_pem_private_key(path.read_bytes(), password=None)
    assert isinstance(key, ec.EllipticCurvePrivateKey)
    return key


def _name(cn: str, org: str | None) -> x509.Name:
    attrs = [x509.NameAttribute(NameOID.COMMON_NAME, cn)]
    if org:
        attrs.insert(0, x509.NameAttribute(NameOID.ORGANIZATION_NAME, org))
    return x509.Name(attrs)


def _ensure_ca(pki: Path) -> tuple[x509.Certificate, ec.EllipticCurvePrivateKey]:
    crt, key_path = pki / "ca.crt", pki / "ca.key"
    if crt.exists() and key_path.exists():
        return x509.load_pem_x509_certificate(crt.read_bytes()), _load_key(key_path)
    key = _write_key(key_path)
    now = datetime.datetime.now(datetime.UTC)
    name = _name("faultline-dev-ca", "Faultline")
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + VALIDITY)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(False, False, False, False, False, True, True, False, False),
            critical=True,
        )
        .sign(key, hashes.SHA256())
    )
    crt.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    return cert, key


def _issue(
    pki: Path, who: Identity, ca: x509.Certificate, ca_key: ec.EllipticCurvePrivateKey
) -> None:
    key = _write_key(pki / f"{who.name}.key")
    now = datetime.datetime.now(datetime.UTC)
    usages = []
    if who.server:
        usages.append(ExtendedKeyUsageOID.SERVER_AUTH)
    if who.client:
        usages.append(ExtendedKeyUsageOID.CLIENT_AUTH)
    builder = (
        x509.CertificateBuilder()
        .subject_name(_name(who.common_name, who.organization))
        .issuer_name(ca.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + VALIDITY)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(True, False, True, False, False, False, False, False, False),
            critical=True,
        )
        .add_extension(x509.ExtendedKeyUsage(usages), critical=False)
    )
    sans: list[x509.GeneralName] = [x509.DNSName(d) for d in who.dns_names]
    sans += [x509.IPAddress(ipaddress.ip_address(i)) for i in dict.fromkeys(who.ip_addresses)]
    if sans:
        builder = builder.add_extension(x509.SubjectAlternativeName(sans), critical=False)
    cert = builder.sign(ca_key, hashes.SHA256())
    (pki / f"{who.name}.crt").write_bytes(cert.public_bytes(serialization.Encoding.PEM))


def kubeconfig(s: Settings, user: str, server: str) -> dict[str, object]:
    def b64(p: Path) -> str:
        return base64.b64encode(p.read_bytes()).decode()

    return {
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [
            {
                "name": "faultline-dev",
                "cluster": {"server": server, "certificate-authority-data": b64(s.pki / "ca.crt")},
            }
        ],
        "users": [
            {
                "name": user,
                "user": {
                    "client-certificate-data": b64(s.pki / f"{user}.crt"),
                    "client-key-data": b64(s.pki / f"{user}.key"),
                },
            }
        ],
        "contexts": [
            {"name": "faultline-dev", "context": {"cluster": "faultline-dev", "user": user}}
        ],
        "current-context": "faultline-dev",
    }


def ensure_pki(s: Settings) -> None:
    """Create whatever certificates, keys and kubeconfigs are missing or stale."""
    s.pki.mkdir(parents=True, exist_ok=True, mode=0o700)
    ca, ca_key = _ensure_ca(s.pki)
    stamp = s.pki / "node-ip"
    stale = not stamp.exists() or stamp.read_text() != s.node_ip
    for who in identities(s):
        if stale or not (s.pki / f"{who.name}.crt").exists():
            _issue(s.pki, who, ca, ca_key)
    stamp.write_text(s.node_ip)
    if not (s.pki / "sa.key").exists():
        sa = _write_key(s.pki / "sa.key")
        (s.pki / "sa.pub").write_bytes(
            sa.public_key().public_bytes(
                serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
            )
        )
    local = f"https://127.0.0.1:{API_PORT}"
    for user in ("admin", "controller-manager", "scheduler", "kube-proxy", "kubelet"):
        path = s.admin_kubeconfig if user == "admin" else s.state / f"{user}.kubeconfig"
        path.write_text(yaml.safe_dump(kubeconfig(s, user, local)))
        path.chmod(0o600)
