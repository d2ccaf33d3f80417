"""Fixtures for tests that need Faultline running on the cluster: the CRDs, a chaosd on the node
(this host) and the operator process watching every namespace but the `e2e-own-*` ones.

On the one-node dev cluster the node *is* this host, so chaosd runs here as root exactly as the
DaemonSet would (hostPID): it sees the pods' processes and enters their namespaces.
"""

from __future__ import annotations

import os
import secrets
import signal
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from tests.support.net import free_port, stop_process, wait_http

REPO = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent

OWN_PREFIX = "e2e-own-"
"""Namespaces the shared `operator` fixture leaves alone (it watches `!e2e-own-*`)."""


@dataclass
class Chaosd:
    url: str
    token: str
    state_dir: Path
    proc: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        port = self.url.rsplit(":", 1)[1]
        cmd = [str(BIN / "chaosd"), "serve", "--listen", f"127.0.0.1:{port}"]
        cmd += ["--state-dir", str(self.state_dir), "--token-file", str(self.state_dir / "token")]
        with open(self.state_dir / "chaosd.log", "ab") as log:
            self.proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=log)
        wait_http(f"{self.url}/healthz", self.proc, "chaosd")

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            stop_process(self.proc)
        self.proc = None


class OperatorProcess:
    """`python -m backend.operator` with its own health and metrics ports; `env` goes last."""

    def __init__(self, kubeconfig: Path, chaosd: Chaosd, log: Path, env: dict[str, str]):
        self.health = free_port()
        self.metrics_port = free_port()
        self.log = log
        self.proc: subprocess.Popen[bytes] | None = None
        self.env = {
            **os.environ,
            "KUBECONFIG": str(kubeconfig),
            "FAULTLINE_CHAOSD_URL": chaosd.url,
            "FAULTLINE_CHAOSD_TOKEN": chaosd.token,
            "FAULTLINE_TICK_SECONDS": "2",
            "FAULTLINE_LEASE_SECONDS": "10",
            "FAULTLINE_HEALTH_LISTEN": f"127.0.0.1:{self.health}",
            "FAULTLINE_METRICS_LISTEN": f"127.0.0.1:{self.metrics_port}",
            **env,
        }

    def start(self) -> None:
        with open(self.log, "ab") as out:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "backend.operator"],
                cwd=REPO,
                env=self.env,
                stdout=subprocess.DEVNULL,
                stderr=out,
            )
        # Generous: on a loaded 2-core node, importing kopf alone can take many seconds.
        wait_http(f"http://127.0.0.1:{self.health}/healthz", self.proc, "operator", 240)

    def kill(self) -> None:
        """SIGKILL: a crash, no cleanup handlers run."""
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait()
        self.proc = None

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            stop_process(self.proc)
        self.proc = None

    def metrics(self) -> str:
        return httpx.get(f"http://127.0.0.1:{self.metrics_port}/metrics", timeout=5).text


@pytest.fixture(scope="module")
def crds(cluster) -> None:  # type: ignore[no-untyped-def]
    cluster.kubectl("apply", "--server-side", "--force-conflicts", "-f", str(REPO / "crds"))
    for f in sorted((REPO / "crds").glob("*.yaml")):
        name = f.stem if "." in f.stem else None
        if name:
            cluster.kubectl("wait", "--for=condition=Established", f"crd/{name}", "--timeout=60s")


@pytest.fixture(scope="module")
def chaosd(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Chaosd]:
    state = tmp_path_factory.mktemp("chaosd")
    token = secrets.token_urlsafe(24)
    (state / "token").write_text(token)
    daemon = Chaosd(f"http://127.0.0.1:{free_port()}", token, state)
    daemon.start()
    try:
        yield daemon
    finally:
        daemon.stop()
        subprocess.run(
            [str(BIN / "chaosd"), "recover", "--all", "--state-dir", str(state)], check=False
        )


@pytest.fixture(scope="module")
def operator(  # type: ignore[no-untyped-def]
    cluster, crds, chaosd: Chaosd, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[OperatorProcess]:
    log = tmp_path_factory.mktemp("operator") / "operator.log"
    env = {
        # Every namespace but those of tests that run their own operator (own_operator.py).
        "FAULTLINE_WATCH_NAMESPACES": f"!{OWN_PREFIX}*",
        # Experiment probes run inside the operator (on this host, which can reach pod and
        # Service IPs) unless a test run asks for the in-cluster probe Job.
        "FAULTLINE_PROBE_MODE": os.environ.get("FAULTLINE_PROBE_MODE", "local"),
    }
    op = OperatorProcess(cluster.kubeconfig, chaosd, log, env)
    try:
        op.start()
        yield op
    finally:
        op.stop()
        print(log.read_text()[-5000:])
