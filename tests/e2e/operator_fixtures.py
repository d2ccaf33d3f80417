"""Shared e2e fixtures: the CRDs, a chaosd on the node (this host) and the operator process.

On the one-node dev cluster the node *is* this host, so chaosd runs here as root exactly as the
DaemonSet would (hostPID): it sees the pods' processes and enters their namespaces.
"""

from __future__ import annotations

import os
import secrets
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

REPO = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_http(url: str, proc: subprocess.Popen[bytes], what: str, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while True:
        if proc.poll() is not None:
            raise AssertionError(f"{what} exited with {proc.returncode}")
        try:
            httpx.get(url, timeout=1)
            return
        except httpx.HTTPError:
            if time.monotonic() > deadline:
                raise AssertionError(f"{what} did not come up at {url}") from None
            time.sleep(0.3)


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
            self.proc.terminate()
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.proc = None


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
def operator(cluster, crds, chaosd: Chaosd, tmp_path_factory: pytest.TempPathFactory):  # type: ignore[no-untyped-def]
    log = tmp_path_factory.mktemp("operator") / "operator.log"
    health = free_port()
    env = {
        **os.environ,
        "KUBECONFIG": str(cluster.kubeconfig),
        "FAULTLINE_CHAOSD_URL": chaosd.url,
        "FAULTLINE_CHAOSD_TOKEN": chaosd.token,
        "FAULTLINE_TICK_SECONDS": "2",
        "FAULTLINE_LEASE_SECONDS": "10",
        "FAULTLINE_HEALTH_LISTEN": f"127.0.0.1:{health}",
        "FAULTLINE_METRICS_LISTEN": f"127.0.0.1:{free_port()}",
        # Every namespace but those of tests that run their own operator (operator_process.py).
        "FAULTLINE_WATCH_NAMESPACES": "!e2e-own-*",
        # Experiment probes run inside the operator (on this host, which can reach pod and
        # Service IPs) unless a test run asks for the in-cluster probe Job.
        "FAULTLINE_PROBE_MODE": os.environ.get("FAULTLINE_PROBE_MODE", "local"),
    }
    with open(log, "wb") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "backend.operator"],
            cwd=REPO,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=out,
        )
    try:
        wait_http(f"http://127.0.0.1:{health}/healthz", proc, "operator")
        yield proc
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
        print(log.read_text()[-5000:])
