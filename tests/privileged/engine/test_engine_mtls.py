"""A real `chaosd serve` with mTLS over real HTTPS: the CA is not enough, the client
certificate's identity must be the configured one. A certificate the right CA signed for some
other name is refused with 403 naming both names, before the body is read, and nothing is
applied; a certificate from another CA, or none, never completes a request.
"""

from __future__ import annotations

import datetime
import ipaddress
import ssl
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID
from engine_lab import CHAOSD, STARTUP_GUARD, Pod, inspect

from tests.support.net import free_port

pytestmark = pytest.mark.privileged

OPERATOR = "faultline-operator"
SPIFFE = "spiffe://cluster.local/ns/faultline/sa/faultline-operator"


@dataclass
class Issuer:
    cert: x509.Certificate
    key: ec.EllipticCurvePrivateKey


def _name(cn: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn)])


def _ca(cn: str) -> Issuer:
    key = ec.generate_private_key(ec.SECP256R1())
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(_name(cn))
        .issuer_name(_name(cn))
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(hours=1))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .sign(key, hashes.SHA256())
    )
    return Issuer(cert, key)


def _leaf(
    issuer: Issuer, cn: str, into: Path, *, sans: list[x509.GeneralName], server: bool
) -> tuple[Path, Path]:
    key = ec.generate_private_key(ec.SECP256R1())
    now = datetime.datetime.now(datetime.UTC)
    usage = ExtendedKeyUsageOID.SERVER_AUTH if server else ExtendedKeyUsageOID.CLIENT_AUTH
    builder = (
        x509.CertificateBuilder()
        .subject_name(_name(cn))
        .issuer_name(issuer.cert.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(hours=1))
        .add_extension(x509.ExtendedKeyUsage([usage]), critical=False)
    )
    if sans:
        builder = builder.add_extension(x509.SubjectAlternativeName(sans), critical=False)
    cert = builder.sign(issuer.key, hashes.SHA256())
    into.mkdir(parents=True, exist_ok=True)
    crt, pem = into / "tls.crt", into / "tls.key"
    crt.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    pem.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return crt, pem


@dataclass
class TLSDaemon:
    url: str
    ca_file: Path
    pki: Path
    proc: subprocess.Popen[bytes]

    def client(self, who: str | None) -> httpx.Client:
        """A client presenting the certificate in pki/<who> (none when who is None)."""
        ctx = ssl.create_default_context(cafile=str(self.ca_file))
        if who is not None:
            d = self.pki / who
            ctx.load_cert_chain(str(d / "tls.crt"), str(d / "tls.key"))
        return httpx.Client(base_url=self.url, verify=ctx, timeout=30)


@pytest.fixture
def mtls_daemon(tmp_path: Path, pods: list[Pod]) -> Iterator[TLSDaemon]:
    pki = tmp_path / "pki"
    ca = _ca("chaosd test CA")
    pki.mkdir()
    ca_file = pki / "ca.crt"
    ca_file.write_bytes(ca.cert.public_bytes(serialization.Encoding.PEM))
    loopback = x509.IPAddress(ipaddress.ip_address("127.0.0.1"))
    server_crt, server_key = _leaf(ca, "chaosd", pki / "server", sans=[loopback], server=True)
    # The operator: the configured CN. A second identity form: a URI SAN (SPIFFE-style).
    _leaf(ca, OPERATOR, pki / "operator", sans=[], server=False)
    _leaf(ca, "workload", pki / "spiffe", sans=[x509.UniformResourceIdentifier(SPIFFE)],
          server=False)  # fmt: skip
    # Signed by the right CA, for something else (any other workload the CA ever served).
    _leaf(ca, "dashboard", pki / "other", sans=[x509.DNSName("dashboard.faultline.svc")],
          server=False)  # fmt: skip
    # The right name, the wrong CA.
    _leaf(_ca("someone else's CA"), OPERATOR, pki / "foreign", sans=[], server=False)
    port = free_port()
    log = tmp_path / "chaosd.log"
    argv = [*CHAOSD, "serve", "--listen", f"127.0.0.1:{port}", "--state-dir",
            str(tmp_path / "state"), "--tls-cert", str(server_crt), "--tls-key", str(server_key),
            "--client-ca", str(ca_file), "--client-identity", OPERATOR,
            "--client-identity", SPIFFE]  # fmt: skip
    with open(log, "ab") as out:
        proc = subprocess.Popen(argv, stdout=out, stderr=subprocess.STDOUT)
    daemon = TLSDaemon(f"https://127.0.0.1:{port}", ca_file, pki, proc)
    try:
        deadline = time.monotonic() + STARTUP_GUARD
        while True:
            assert proc.poll() is None, f"chaosd exited; log:\n{log.read_text()}"
            try:
                with daemon.client("operator") as c:  # even /healthz needs a certificate
                    if c.get("/healthz").status_code == 200:
                        break
            except httpx.HTTPError:
                pass
            assert time.monotonic() < deadline, f"chaosd did not come up:\n{log.read_text()}"
            time.sleep(0.05)
        yield daemon
    finally:
        proc.kill()
        proc.wait()
        subprocess.run(
            [*CHAOSD, "recover", "--all", "--state-dir", str(tmp_path / "state")],
            capture_output=True, check=False,
        )  # fmt: skip


def test_the_configured_identity_is_served(mtls_daemon: TLSDaemon, pods: list[Pod]) -> None:
    a, _ = pods
    with mtls_daemon.client("operator") as c:
        assert c.get("/targets").json() == []
        r = c.put(f"/targets/{a.id}", json={"pid": a.pid, "faults": [{"kind": "loss", "loss": 5}]})
        assert r.status_code == 200, r.text
        assert inspect(a)["nft_table"] is True
        assert c.delete(f"/targets/{a.id}").status_code == 204
    assert inspect(a)["nft_table"] is False
    with mtls_daemon.client("spiffe") as c:  # a URI SAN names the client as well as a CN
        assert c.get("/targets").status_code == 200


def test_a_certificate_the_ca_signed_for_another_identity_is_refused(
    mtls_daemon: TLSDaemon, pods: list[Pod]
) -> None:
    a, _ = pods
    body = {"pid": a.pid, "faults": [{"kind": "loss", "loss": 100}]}
    with mtls_daemon.client("other") as c:
        for r in (c.get("/targets"), c.put(f"/targets/{a.id}", json=body)):
            assert r.status_code == 403, r.text
            detail = r.json()["detail"]
            assert "client certificate identity not allowed" in detail
            assert "'dashboard'" in detail and "'dashboard.faultline.svc'" in detail
            assert f"'{OPERATOR}'" in detail and "--client-identity" in detail
    assert inspect(a)["nft_table"] is False  # nothing applied
    with mtls_daemon.client("operator") as c:
        assert c.get("/targets").json() == []  # nothing journaled


@pytest.mark.parametrize("who", ["foreign", None], ids=["other-ca", "no-certificate"])
def test_the_handshake_refuses_other_cas_and_no_certificate(
    mtls_daemon: TLSDaemon, pods: list[Pod], who: str | None
) -> None:
    a, _ = pods
    body = {"pid": a.pid, "faults": [{"kind": "loss", "loss": 100}]}
    with pytest.raises(httpx.HTTPError), mtls_daemon.client(who) as c:
        c.put(f"/targets/{a.id}", json=body)
    assert inspect(a)["nft_table"] is False
