"""Who may talk to chaosd. chaosd runs privileged on every node, so its API is never open:
callers prove themselves with a bearer token or a client certificate (mTLS).

With mTLS the TLS layer (uvicorn with `CERT_REQUIRED`) rejects clients without a certificate
signed by the configured CA before any request reaches the app. A token, when configured, is
checked on every request except /healthz; error messages say how to authenticate because an
unexplained "Unauthorized" is what users of other chaos tools complain about.
"""

from __future__ import annotations

import hmac
import os
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from fastapi import HTTPException, Request

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
    *, state_dir: Path, token_file: Path | None, mtls: bool
) -> tuple[AuthConfig, Path | None]:
    """Pick the auth mode; returns the config and the path of a token file we generated."""
    if token_file is not None:
        return AuthConfig(read_token(token_file), mtls, f"the file {token_file}"), None
    if os.environ.get(TOKEN_ENV):
        return AuthConfig(os.environ[TOKEN_ENV].strip(), mtls, f"${TOKEN_ENV}"), None
    if mtls:
        return AuthConfig(None, True, "client certificate"), None
    path = state_dir / TOKEN_FILE_NAME
    return AuthConfig(generate_token(path), False, f"the file {path}"), path


def bearer_dependency(config: AuthConfig) -> Callable[[Request], None]:
    """A FastAPI dependency that raises 401 with instructions unless the caller is authentic."""

    def check(request: Request) -> None:
        if config.token is None:
            return  # mTLS: the TLS handshake already verified the client certificate
        header = request.headers.get("authorization", "")
        scheme, _, supplied = header.partition(" ")
        how = (
            f"send the header 'Authorization: Bearer <token>' with the token from "
            f"{config.token_hint} on the chaosd node"
        )
        if scheme.lower() != "bearer" or not supplied.strip():
            raise HTTPException(
                401, f"authentication required: {how}", {"WWW-Authenticate": "Bearer"}
            )
        if not hmac.compare_digest(supplied.strip().encode(), config.token.encode()):
            raise HTTPException(
                401,
                f"invalid bearer token: it does not match the token in {config.token_hint}",
                {"WWW-Authenticate": 'Bearer error="invalid_token"'},
            )

    return check
