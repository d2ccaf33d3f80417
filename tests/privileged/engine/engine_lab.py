"""A lab for chaosd end-to-end tests: real `chaosd serve` processes and netns "pods".

Each pod is a `sleep` in a fresh netns (`unshare --net`), paired with another pod by a veth link,
so the host's own network namespace is never touched and a namespace dies with its pod. `inspect`
reads what Faultline holds in a pod straight from the kernel (nft, tc, /proc) so tests do not
rely on chaosd's own account of what it did.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from chaosd.faults.base import TargetRef
from chaosd.faults.io import family as io_family
from chaosd.faults.io import owned as io_owned
from chaosd.faults.network import delayers, family
from tests.support.net import free_port

CHAOSD = [sys.executable, "-m", "chaosd.cli"]
STARTUP_GUARD = 60.0  # liveness guard for a daemon that never comes up, not a measurement


@dataclass
class Pod:
    proc: subprocess.Popen[bytes]
    id: str
    ip: str
    volume: str = ""
    """A directory the pod can take IO faults on (its mount namespace is private)."""

    @property
    def pid(self) -> int:
        return self.proc.pid


def start_pod(target_id: str, ip: str) -> Pod:
    volume = Path("/tmp") / f"fl-{target_id}"
    volume.mkdir(exist_ok=True)
    (volume / "data").write_bytes(b"x" * 4096)
    argv = ["unshare", "--net", "--mount", "--propagation", "private", "--", "sleep", "infinity"]
    proc = subprocess.Popen(argv)
    host = os.stat("/proc/self/ns/net").st_ino
    while True:  # unshare execs sleep only once the new namespaces exist
        with contextlib.suppress(FileNotFoundError):
            if os.stat(f"/proc/{proc.pid}/ns/net").st_ino != host:
                return Pod(proc, target_id, ip, str(volume))
        assert proc.poll() is None, f"unshare for {target_id} exited"
        time.sleep(0.005)


def nsrun(pod: Pod, *argv: str, check: bool = True) -> str:
    out = subprocess.run(
        ["nsenter", f"--net=/proc/{pod.pid}/ns/net", "--", *argv],
        capture_output=True, text=True, check=check,
    )  # fmt: skip
    return out.stdout


def stop_pods(pods: list[Pod]) -> None:
    """Remove whatever Faultline may hold, then end the pods (their netns go with them)."""
    for pod in pods:
        try:
            family.recover(TargetRef(pod.id, pod.pid))
            io_family.recover(TargetRef(pod.id, pod.pid))
        finally:
            delayers.stop([d.pid for d in delayers.find(pod.id)])
            pod.proc.send_signal(signal.SIGKILL)
            pod.proc.wait()
            if pod.volume:
                subprocess.run(["rm", "-rf", pod.volume], check=False)


@contextlib.contextmanager
def pod_pairs(n: int) -> Iterator[list[Pod]]:
    """2n pods; pod 2i and 2i+1 share a veth link (10.x.y.1 and .2)."""
    tag = secrets.token_hex(3)
    pods: list[Pod] = []
    try:
        for i in range(n):
            net = f"10.{secrets.randbelow(200) + 20}.{secrets.randbelow(250) + 1}"
            a = start_pod(f"eng-{tag}-{i}a", f"{net}.1")
            pods.append(a)
            b = start_pod(f"eng-{tag}-{i}b", f"{net}.2")
            pods.append(b)
            nsrun(a, "ip", "link", "add", "eth0", "type", "veth", "peer", "name", "eth0",
                  "netns", str(b.pid))  # fmt: skip
            for pod in (a, b):
                nsrun(pod, "ip", "addr", "add", f"{pod.ip}/24", "dev", "eth0")
                nsrun(pod, "ip", "link", "set", "eth0", "up")
                nsrun(pod, "ip", "link", "set", "lo", "up")
        yield pods
    finally:
        stop_pods(pods)


def inspect(pod: Pod) -> dict[str, Any]:
    """What Faultline holds in the pod, read directly from the kernel."""
    tables = nsrun(pod, "nft", "list", "tables", check=False)
    qdiscs = nsrun(pod, "tc", "qdisc", "show", check=False)
    io = io_owned(pod.pid)
    return {
        "nft_table": "inet faultline" in tables,
        "qdiscs": [q for q in qdiscs.splitlines() if " fa17:" in q or " fa18:" in q],
        "delayers": [d.pid for d in delayers.find(pod.id)],
        "fuse_mounts": [m["mount_point"] for m in io["mounts"]],
        "iofs_servers": [srv["pid"] for srv in io["servers"]],
    }


def reachable(src: Pod, dst: Pod) -> bool:
    out = subprocess.run(
        ["nsenter", f"--net=/proc/{src.pid}/ns/net", "--",
         "ping", "-n", "-c", "1", "-W", "1", dst.ip],
        capture_output=True, check=False,
    )  # fmt: skip
    return out.returncode == 0


class Daemon:
    """A `chaosd serve` subprocess on loopback with a token; restartable on the same state."""

    def __init__(self, state_dir: Path, log: Path) -> None:
        self.state_dir = state_dir
        self.token_file = state_dir.parent / "token"
        self.token_file.write_text(secrets.token_urlsafe(24) + "\n")
        self.log = log
        self.proc: subprocess.Popen[bytes] | None = None
        self.port = 0

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token_file.read_text().strip()}"}

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, *extra: str) -> None:
        self.port = free_port()
        with open(self.log, "ab") as log:
            self.proc = subprocess.Popen(
                [*CHAOSD, "serve", "--listen", f"127.0.0.1:{self.port}",
                 "--state-dir", str(self.state_dir), "--token-file", str(self.token_file), *extra],
                stdout=log, stderr=subprocess.STDOUT,
            )  # fmt: skip
        deadline = time.monotonic() + STARTUP_GUARD
        while time.monotonic() < deadline:
            assert self.proc.poll() is None, f"chaosd exited; log:\n{self.log.read_text()}"
            with contextlib.suppress(httpx.HTTPError):
                if httpx.get(f"{self.url}/healthz", timeout=1).status_code == 200:
                    return
            time.sleep(0.05)
        raise AssertionError(f"chaosd did not come up; log:\n{self.log.read_text()}")

    def kill(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
        if self.proc:
            self.proc.wait()

    def client(self) -> httpx.Client:
        return httpx.Client(base_url=self.url, headers=self.headers, timeout=60)
