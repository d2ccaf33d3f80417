"""Who may talk to chaosd. chaosd runs privileged on every node, so its API is never open:
callers prove themselves with a bearer token or a client certificate (mTLS).

With mTLS the TLS layer (uvicorn with `CERT_REQUIRED`) rejects clients without a certificate
signed by the configured CA before any request reaches the app; then the certificate's identity
must be one configured (`--client-identity`). A token, when configured, is checked on every
request except /healthz. Both checks read headers and the TLS peer only (chaosd/gate.py runs
them before the body is read); error messages say how to authenticate because an unexplained
"Unauthorized" is what users of other chaos tools complain about.
"""

from __future__ import annotations

import hmac
import os
import secrets
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

TOKEN_ENV = "CHAOSD_TOKEN"
TOKEN_FILE_NAME = "token"


class AuthSetupError(Exception):
    """The token file or TLS material is unusable; the message names the path."""


@dataclass(frozen=True)
class AuthConfig:
    token: str | None
    """Required bearer token; None when mTLS alone authenticates."""
    mtls: bool
    token_hint: str
    """Where an operator finds the token, quoted in 401 messages (never the token itself)."""
    client_identities: tuple[str, ...] = ()
    """With mTLS: the certificate names (CN, DNS or URI SAN) accepted. The CA alone is not
    enough: any certificate it ever signed for anything else would otherwise drive chaosd."""


def read_token(path: Path) -> str:
    try:
        token = path.read_text().strip()
    except OSError as e:
        raise AuthSetupError(f"token file {path}: {e.strerror}") from e
    if not token:
        raise AuthSetupError(f"token file {path}: is empty")
    return token


def generate_token(path: Path) -> str:
    """Create a random token readable only by root; reuse one that already exists."""
    if path.exists():
        return read_token(path)
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    token = secrets.token_urlsafe(32)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as f:
        f.write(token + "\n")
        f.flush()
        os.fsync(f.fileno())
    return token


def resolve(
    *,
    state_dir: Path,
    token_file: Path | None,
    mtls: bool,
    client_identities: Sequence[str] = (),
) -> tuple[AuthConfig, Path | None]:
    """Pick the auth mode; returns the config and the path of a token file we generated."""
    names = tuple(n.strip() for n in client_identities if n.strip())
    if mtls and not names:
        raise AuthSetupError(
            "--client-identity: required with --client-ca; give the CN or a DNS/URI SAN of the "
            "operator's client certificate (the Helm chart passes <release>-faultline-operator)"
        )
    if names and not mtls:
        raise AuthSetupError("--client-identity: only meaningful with mTLS (--client-ca)")
    if token_file is not None:
        return AuthConfig(read_token(token_file), mtls, f"the file {token_file}", names), None
    if os.environ.get(TOKEN_ENV):
        return AuthConfig(os.environ[TOKEN_ENV].strip(), mtls, f"${TOKEN_ENV}", names), None
    if mtls:
        return AuthConfig(None, True, "client certificate", names), None
    path = state_dir / TOKEN_FILE_NAME
    return AuthConfig(generate_token(path), False, f"the file {path}"), path


@dataclass(frozen=True)
class Refusal:
    status: int
    detail: str
    headers: dict[str, str]


def authenticate(
    config: AuthConfig, *, authorization: str, identities: Sequence[str]
) -> Refusal | None:
    """Judge a request from its headers and TLS peer alone, so it runs before any body is read.
    `identities` are the client certificate's CN and DNS/URI SANs (empty without mTLS)."""
    if config.client_identities and not set(identities) & set(config.client_identities):
        shown = ", ".join(repr(i) for i in identities) or "none"
        return Refusal(
            403,
            f"client certificate identity not allowed: it names {shown}; chaosd accepts only "
            f"{', '.join(repr(i) for i in config.client_identities)} (--client-identity)",
            {},
        )
    if config.token is None:
        return None  # mTLS alone: the handshake verified the CA, the line above the identity
    scheme, _, supplied = authorization.partition(" ")
    how = (
        f"send the header 'Authorization: Bearer <token>' with the token from "
        f"{config.token_hint} on the chaosd node"
    )
    if scheme.lower() != "bearer" or not supplied.strip():
        return Refusal(401, f"authentication required: {how}", {"WWW-Authenticate": "Bearer"})
    if not hmac.compare_digest(supplied.strip().encode(), config.token.encode()):
        return Refusal(
            401,
            f"invalid bearer token: it does not match the token in {config.token_hint}",
            {"WWW-Authenticate": 'Bearer error="invalid_token"'},
        )
    return None


def certificate_identities(peercert: Mapping[str, Any]) -> list[str]:
    """The names a verified client certificate (as `SSLSocket.getpeercert()` returns it) may be
    known by: its subject's commonName values and its DNS and URI subjectAltNames."""
    names: list[str] = []
    for rdn in peercert.get("subject", ()):
        names += [value for key, value in rdn if key == "commonName"]
    names += [value for kind, value in peercert.get("subjectAltName", ()) if kind in ("DNS", "URI")]
    return names
