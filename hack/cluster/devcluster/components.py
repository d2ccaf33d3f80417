"""The processes that make up the dev cluster: how each is started and how we know it is healthy.

Components run as plain background processes (no systemd here), each in its own session so a
terminal or test runner exiting does not take them down, logging to one file each under the
logs folder. A pid file records the pid and the kernel start time so a recycled pid is never
mistaken for a live component.
"""

from __future__ import annotations

import os
import shlex
import signal
import ssl
import subprocess
import time
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from devcluster.settings import (
    API_PORT,
    CLUSTER_DOMAIN,
    ETCD_CLIENT_PORT,
    ETCD_PEER_PORT,
    SERVICE_CIDR,
    Settings,
)

SYSTEM_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"


@dataclass(frozen=True)
class Component:
    name: str
    argv: Callable[[Settings], list[str]]
    health_url: str


def _etcd(s: Settings) -> list[str]:
    client = f"http://127.0.0.1:{ETCD_CLIENT_PORT}"
    peer = f"http://127.0.0.1:{ETCD_PEER_PORT}"
    return [
        "etcd",
        "--name=faultline",
        f"--data-dir={s.state}/etcd",
        f"--listen-client-urls={client}",
        f"--advertise-client-urls={client}",
        f"--listen-peer-urls={peer}",
        f"--initial-advertise-peer-urls={peer}",
        f"--initial-cluster=faultline={peer}",
        "--snapshot-count=10000",
    ]


def _apiserver(s: Settings) -> list[str]:
    p = s.pki
    return [
        str(s.k8s_bin / "kube-apiserver"),
        f"--advertise-address={s.node_ip}",
        "--allow-privileged=true",
        "--authorization-mode=Node,RBAC",
        f"--client-ca-file={p}/ca.crt",
        "--enable-admission-plugins=NodeRestriction",
        f"--etcd-servers=http://127.0.0.1:{ETCD_CLIENT_PORT}",
        f"--kubelet-certificate-authority={p}/ca.crt",
        f"--kubelet-client-certificate={p}/apiserver-kubelet-client.crt",
        f"--kubelet-client-key={p}/apiserver-kubelet-client.key",
        "--kubelet-preferred-address-types=InternalIP,Hostname",
        f"--secure-port={API_PORT}",
        f"--service-account-issuer=https://kubernetes.default.svc.{CLUSTER_DOMAIN}",
        f"--service-account-key-file={p}/sa.pub",
        f"--service-account-signing-key-file={p}/sa.key",
        f"--service-cluster-ip-range={SERVICE_CIDR}",
        f"--tls-cert-file={p}/apiserver.crt",
        f"--tls-private-key-file={p}/apiserver.key",
        "--profiling=false",
        "--event-ttl=1h",
    ]


def _controller_manager(s: Settings) -> list[str]:
    kc = f"{s.state}/controller-manager.kubeconfig"
    return [
        str(s.k8s_bin / "kube-controller-manager"),
        f"--kubeconfig={kc}",
        f"--authentication-kubeconfig={kc}",
        f"--authorization-kubeconfig={kc}",
        "--bind-address=127.0.0.1",
        "--leader-elect=false",
        f"--cluster-signing-cert-file={s.pki}/ca.crt",
        f"--cluster-signing-key-file={s.pki}/ca.key",
        f"--root-ca-file={s.pki}/ca.crt",
        f"--service-account-private-key-file={s.pki}/sa.key",
        "--use-service-account-credentials=true",
        f"--service-cluster-ip-range={SERVICE_CIDR}",
        "--profiling=false",
    ]


def _scheduler(s: Settings) -> list[str]:
    kc = f"{s.state}/scheduler.kubeconfig"
    return [
        str(s.k8s_bin / "kube-scheduler"),
        f"--kubeconfig={kc}",
        f"--authentication-kubeconfig={kc}",
        f"--authorization-kubeconfig={kc}",
        "--bind-address=127.0.0.1",
        "--leader-elect=false",
        "--profiling=false",
    ]


def _containerd(s: Settings) -> list[str]:
    return ["containerd", f"--config={s.state}/containerd.toml"]


def _kubelet(s: Settings) -> list[str]:
    return [
        str(s.k8s_bin / "kubelet"),
        f"--config={s.state}/kubelet.yaml",
        f"--kubeconfig={s.state}/kubelet.kubeconfig",
        f"--root-dir={s.kubelet_root}",
        f"--hostname-override={s.node_name}",
        f"--node-ip={s.node_ip}",
    ]


def _kube_proxy(s: Settings) -> list[str]:
    return [str(s.k8s_bin / "kube-proxy"), f"--config={s.state}/kube-proxy.yaml"]


# Start order; teardown goes in reverse.
COMPONENTS = [
    Component("etcd", _etcd, f"http://127.0.0.1:{ETCD_CLIENT_PORT}/health"),
    Component("kube-apiserver", _apiserver, f"https://127.0.0.1:{API_PORT}/readyz"),
    Component("kube-controller-manager", _controller_manager, "https://127.0.0.1:10257/healthz"),
    Component("kube-scheduler", _scheduler, "https://127.0.0.1:10259/healthz"),
    Component("containerd", _containerd, ""),
    Component("kubelet", _kubelet, "http://127.0.0.1:10248/healthz"),
    Component("kube-proxy", _kube_proxy, "http://127.0.0.1:10256/healthz"),
]
BY_NAME = {c.name: c for c in COMPONENTS}


def _start_time(pid: int) -> str | None:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    fields = stat.rsplit(")", 1)[1].split()
    if fields[0] == "Z":  # exited, waiting to be reaped: not running
        return None
    return fields[19]


def running_pid(s: Settings, name: str) -> int | None:
    """The component's pid if the process we started is still alive."""
    try:
        pid_text, started = (s.pids / f"{name}.pid").read_text().split()
    except (OSError, ValueError):
        return None
    pid = int(pid_text)
    return pid if _start_time(pid) == started else None


def start(s: Settings, c: Component) -> int:
    """Start a component detached from us: the shell exits, the component is re-parented."""
    log = s.logs / f"{c.name}.log"
    cmd = shlex.join(c.argv(s))
    # `setsid` without a fork (the background job is no group leader), so $! is the component.
    out = subprocess.run(
        ["sh", "-c", f"exec 0</dev/null; setsid {cmd} >>{shlex.quote(str(log))} 2>&1 & echo $!"],
        capture_output=True,
        text=True,
        check=True,
        env={"PATH": SYSTEM_PATH, "HOME": "/root"},
        start_new_session=True,
    )
    pid = int(out.stdout.strip())
    started = None
    for _ in range(50):
        started = _start_time(pid)
        if started:
            break
        time.sleep(0.02)
    (s.pids / f"{c.name}.pid").write_text(f"{pid} {started}\n")
    return pid


def stop(s: Settings, name: str, grace: float = 15.0) -> None:
    pid = running_pid(s, name)
    if pid is not None:
        os.kill(pid, signal.SIGTERM)
        deadline = time.monotonic() + grace
        while running_pid(s, name) and time.monotonic() < deadline:
            time.sleep(0.1)
        if running_pid(s, name):
            os.kill(pid, signal.SIGKILL)
            while running_pid(s, name):
                time.sleep(0.05)
    (s.pids / f"{name}.pid").unlink(missing_ok=True)


def healthy(s: Settings, c: Component) -> bool:
    if c.name == "containerd":
        return (
            s.containerd_socket.exists()
            and subprocess.run(
                ["ctr", "--address", str(s.containerd_socket), "version"],
                capture_output=True,
                check=False,
                timeout=10,
            ).returncode
            == 0
        )
    ctx = ssl.create_default_context(cafile=str(s.pki / "ca.crt"))
    if c.name in ("kube-controller-manager", "kube-scheduler"):
        ctx = ssl._create_unverified_context()  # they serve a self-signed cert of their own
    ctx.load_cert_chain(str(s.pki / "admin.crt"), str(s.pki / "admin.key"))
    try:
        with urllib.request.urlopen(c.health_url, timeout=5, context=ctx) as resp:
            return bool(resp.status == 200)
    except OSError:
        return False
