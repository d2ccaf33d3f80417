"""Operator settings, from the environment (the Helm chart sets them)."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

from backend.clients.chaosd import ChaosdClient, ChaosdTLS
from backend.domain.limits import TargetLimits


def _env(name: str, default: str) -> str:
    return os.environ.get(name, default)


def _names(name: str, default: str) -> tuple[str, ...]:
    return tuple(n.strip() for n in _env(name, default).split(",") if n.strip())


@dataclass(frozen=True)
class OperatorSettings:
    chaosd_namespace: str = field(
        default_factory=lambda: _env("FAULTLINE_CHAOSD_NAMESPACE", "faultline")
    )
    chaosd_selector: str = field(
        default_factory=lambda: _env(
            "FAULTLINE_CHAOSD_SELECTOR", "app.kubernetes.io/component=chaosd"
        )
    )
    chaosd_port: int = field(default_factory=lambda: int(_env("FAULTLINE_CHAOSD_PORT", "9443")))
    chaosd_scheme: str = field(default_factory=lambda: _env("FAULTLINE_CHAOSD_SCHEME", "http"))
    chaosd_token_file: Path = field(
        default_factory=lambda: Path(
            _env("FAULTLINE_CHAOSD_TOKEN_FILE", "/var/run/faultline/token")
        )
    )
    chaosd_url: str = field(default_factory=lambda: _env("FAULTLINE_CHAOSD_URL", ""))
    """A fixed chaosd URL for every node (a one-node dev cluster running chaosd on the host)."""
    lease_seconds: float = field(
        default_factory=lambda: float(_env("FAULTLINE_LEASE_SECONDS", "30"))
    )
    tick_seconds: float = field(default_factory=lambda: float(_env("FAULTLINE_TICK_SECONDS", "5")))
    leak_watch_seconds: float = field(
        default_factory=lambda: float(_env("FAULTLINE_LEAK_WATCH_SECONDS", "30"))
    )
    """Seconds between asks to every chaosd for new leak repairs (Events); 0: never."""
    operator_namespace: str = field(
        default_factory=lambda: _env(
            "FAULTLINE_OPERATOR_NAMESPACE",
            _env("POD_NAMESPACE", _env("FAULTLINE_LEASE_NAMESPACE", "faultline")),
        )
    )
    """Where the kill-switch ConfigMap lives."""
    require_namespace_opt_in: bool = field(
        default_factory=lambda: (
            _env("FAULTLINE_REQUIRE_NAMESPACE_OPT_IN", "false").lower() == "true"
        )
    )
    limits: TargetLimits = field(default_factory=lambda: TargetLimits.from_env(os.environ))
    """Protected namespaces (the chart adds its release namespace), the platform team's
    exceptions and the allow list: FAULTLINE_PROTECTED_NAMESPACES,
    FAULTLINE_ALLOW_PROTECTED_NAMESPACES, FAULTLINE_TARGET_NAMESPACES."""
    pod_failure_image: str = field(
        default_factory=lambda: _env(
            "FAULTLINE_POD_FAILURE_IMAGE", "faultline.local/pause:3.10-catatonit"
        )
    )
    """The image pod-failure swaps in: it must already be on every node (nothing is pulled)."""
    metrics_listen: str = field(
        default_factory=lambda: _env("FAULTLINE_METRICS_LISTEN", "0.0.0.0:8082")
    )

    chaosd_tls_ca_file: str = field(
        default_factory=lambda: _env("FAULTLINE_CHAOSD_TLS_CA_FILE", "")
    )
    chaosd_tls_cert_file: str = field(
        default_factory=lambda: _env("FAULTLINE_CHAOSD_TLS_CERT_FILE", "")
    )
    chaosd_tls_key_file: str = field(
        default_factory=lambda: _env("FAULTLINE_CHAOSD_TLS_KEY_FILE", "")
    )
    chaosd_tls_server_name: str = field(
        default_factory=lambda: _env("FAULTLINE_CHAOSD_TLS_SERVER_NAME", "")
    )
    """mTLS to chaosd (the chart's auth.mode=mtls): CA, client pair, name in chaosd's cert."""

    def chaosd_tls(self) -> ChaosdTLS | None:
        files = {
            "FAULTLINE_CHAOSD_TLS_CA_FILE": self.chaosd_tls_ca_file,
            "FAULTLINE_CHAOSD_TLS_CERT_FILE": self.chaosd_tls_cert_file,
            "FAULTLINE_CHAOSD_TLS_KEY_FILE": self.chaosd_tls_key_file,
        }
        if not any(files.values()):
            return None
        missing = [name for name, value in files.items() if not value]
        if missing:
            raise ValueError(f"{', '.join(missing)}: required with the other chaosd TLS files")
        return ChaosdTLS(
            Path(self.chaosd_tls_ca_file),
            Path(self.chaosd_tls_cert_file),
            Path(self.chaosd_tls_key_file),
            self.chaosd_tls_server_name or None,
        )

    def chaosd_client(self, url: str) -> ChaosdClient:
        """A client for one chaosd: mTLS when configured (a token then only if one is set
        explicitly), else the bearer token."""
        tls = self.chaosd_tls()
        if tls is None:
            return ChaosdClient(url, token=self.token())
        explicit = os.environ.get("FAULTLINE_CHAOSD_TOKEN") or (
            self.chaosd_token_file.read_text().strip() if self.chaosd_token_file.exists() else None
        )
        return ChaosdClient(url, token=explicit, tls=tls)

    def token(self) -> str:
        token = os.environ.get("FAULTLINE_CHAOSD_TOKEN")
        if token:
            return token
        return self.chaosd_token_file.read_text().strip()
