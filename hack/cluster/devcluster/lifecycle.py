"""Bring the dev cluster up, take it down, and report on it.

`up` is idempotent: it starts only what is not already running, so it is the one command for a
fresh machine, a stopped cluster and a half-crashed one alike. `down` stops every component and
then sweeps the host (see teardown) so nothing of the cluster remains.
"""

from __future__ import annotations

import fcntl
import json
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from devcluster import teardown
from devcluster.components import BY_NAME, COMPONENTS, healthy, running_pid, start, stop
from devcluster.configs import write_all
from devcluster.pki import ensure_pki
from devcluster.settings import REPO, Settings

# Sysctls the cluster needs (ours) or that the kubelet sets (its defaults); all restored on down.
SYSCTLS = {
    "net.ipv4.ip_forward": "1",
    # Service replies between pods on one bridge must pass through conntrack to be un-NATed.
    "net.bridge.bridge-nf-call-iptables": "1",
    "kernel.panic": None,
    "kernel.panic_on_oops": None,
    "vm.overcommit_memory": None,
}


class ClusterError(RuntimeError):
    pass


def log(msg: str) -> None:
    print(f"==> {msg}", file=sys.stderr, flush=True)


@contextmanager
def locked(s: Settings) -> Iterator[None]:
    """One up/down at a time, even across parallel test processes."""
    s.state.mkdir(parents=True, exist_ok=True)
    with open(s.state / ".lock", "w") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        yield


def _sysctl_path(name: str) -> Path:
    return Path("/proc/sys") / name.replace(".", "/")


def _save_and_set_sysctls(s: Settings) -> None:
    saved_file = s.state / "sysctl-saved.json"
    if not saved_file.exists():
        saved = {
            n: _sysctl_path(n).read_text().strip() for n in SYSCTLS if _sysctl_path(n).exists()
        }
        saved_file.write_text(json.dumps(saved))
    for name, value in SYSCTLS.items():
        if value is not None and _sysctl_path(name).exists():
            _sysctl_path(name).write_text(value)


def _restore_sysctls(s: Settings) -> None:
    saved_file = s.state / "sysctl-saved.json"
    if saved_file.exists():
        for name, value in json.loads(saved_file.read_text()).items():
            _sysctl_path(name).write_text(value)
        saved_file.unlink()


def ensure_binaries() -> None:
    result = subprocess.run(
        [str(REPO / "hack/cluster/build.sh"), "all"], stdout=subprocess.DEVNULL, check=False
    )
    if result.returncode != 0:
        raise ClusterError("hack/cluster/build.sh failed; see its output above")


def _log_tail(s: Settings, name: str, lines: int = 25) -> str:
    path = s.logs / f"{name}.log"
    if not path.exists():
        return "(no log)"
    return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])


def _wait_healthy(s: Settings, name: str, timeout: float = 300.0) -> None:
    c = BY_NAME[name]
    deadline = time.monotonic() + timeout
    while not healthy(s, c):
        if running_pid(s, name) is None:
            raise ClusterError(
                f"{name} exited; last log lines ({s.logs}/{name}.log):\n{_log_tail(s, name)}"
            )
        if time.monotonic() > deadline:
            raise ClusterError(
                f"{name} not healthy after {timeout:.0f}s; last log lines:\n{_log_tail(s, name)}"
            )
        time.sleep(0.3)


def _ensure_running(s: Settings, name: str) -> None:
    if running_pid(s, name) is None:
        log(f"starting {name}")
        start(s, BY_NAME[name])


def kubectl(s: Settings, *args: str, check: bool = True, stdin: str | None = None) -> str:
    result = subprocess.run(
        [str(s.kubectl), f"--kubeconfig={s.admin_kubeconfig}", *args],
        capture_output=True,
        text=True,
        input=stdin,
        check=False,
    )
    if check and result.returncode != 0:
        raise ClusterError(f"kubectl {' '.join(args)}: {result.stderr.strip()}")
    return result.stdout


def _wait_node_ready(s: Settings, timeout: float = 300.0) -> None:
    deadline = time.monotonic() + timeout
    while True:
        out = kubectl(
            s,
            "get",
            "node",
            s.node_name,
            "-o",
            "jsonpath={.status.conditions[?(@.type=='Ready')].status}",
            check=False,
        )
        if out.strip() == "True":
            return
        if time.monotonic() > deadline:
            raise ClusterError(
                f"node {s.node_name} not Ready after {timeout:.0f}s; kubelet log:\n"
                f"{_log_tail(s, 'kubelet')}"
            )
        for name in ("kubelet", "containerd", "kube-proxy"):
            if running_pid(s, name) is None:
                raise ClusterError(f"{name} exited:\n{_log_tail(s, name)}")
        time.sleep(0.5)


def _wait_default_service_account(s: Settings, timeout: float = 120.0) -> None:
    deadline = time.monotonic() + timeout
    while (
        kubectl(
            s, "-n", "default", "get", "serviceaccount", "default", "-o", "name", check=False
        ).strip()
        != "serviceaccount/default"
    ):
        if time.monotonic() > deadline:
            raise ClusterError(
                "the default service account was never created; "
                f"controller-manager log:\n{_log_tail(s, 'kube-controller-manager')}"
            )
        time.sleep(0.3)


def up(s: Settings | None = None, *, build: bool = True) -> Settings:
    """Start (or finish starting) the cluster; returns its settings once the node is Ready."""
    s = s or Settings()
    with locked(s):
        if build:
            ensure_binaries()
        teardown.record_host_state(s)
        _save_and_set_sysctls(s)
        ensure_pki(s)
        for name in write_all(s):
            if running_pid(s, name) is not None:
                log(f"restarting {name}: its configuration changed")
                stop(s, name)
        _ensure_running(s, "etcd")
        _ensure_running(s, "containerd")
        _wait_healthy(s, "etcd")
        _ensure_running(s, "kube-apiserver")
        _wait_healthy(s, "containerd")
        _import_images(s)
        _wait_healthy(s, "kube-apiserver")
        for name in ("kube-controller-manager", "kube-scheduler", "kubelet", "kube-proxy"):
            _ensure_running(s, name)
        for c in COMPONENTS:
            _wait_healthy(s, c.name)
        _wait_node_ready(s)
        _wait_default_service_account(s)
        from devcluster.addons import apply_addons

        apply_addons(s)
    return s


def _import_images(s: Settings) -> None:
    sys.path.insert(0, str(REPO / "hack/images"))
    from localimages.catalog import ensure_imported

    for tag in ensure_imported(s.containerd_socket):
        log(f"imported image {tag}")


def _remove_containers(s: Settings) -> None:
    """Kill and forget every container, so a restarted containerd does not try to revive them."""
    sock = str(s.containerd_socket)

    def ctr(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            ["ctr", "--address", sock, "-n", "k8s.io", *args],
            capture_output=True,
            text=True,
            check=False,
            timeout=60,
        )

    teardown.kill_pod_processes(s)
    for task_id in ctr("tasks", "ls", "-q").stdout.split():
        ctr("tasks", "rm", "-f", task_id)
    for container_id in ctr("containers", "ls", "-q").stdout.split():
        ctr("containers", "rm", container_id)


def down(s: Settings | None = None, *, purge: bool = False) -> dict[str, list[str]]:
    """Stop everything and remove all trace from the host; returns what is left (nothing)."""
    s = s or Settings()
    with locked(s):
        for name in ("kube-proxy", "kubelet"):
            stop(s, name)
        if running_pid(s, "containerd") is not None and healthy(s, BY_NAME["containerd"]):
            _remove_containers(s)
        teardown.kill_pod_processes(s)
        stop(s, "containerd")
        teardown.kill_pod_processes(s)  # shims left behind by a containerd that died earlier
        for name in ("kube-scheduler", "kube-controller-manager", "kube-apiserver", "etcd"):
            stop(s, name)
        teardown.unmount_all(s)
        teardown.remove_network()
        teardown.remove_rules(s)
        teardown.remove_cgroups()
        _restore_sysctls(s)
        if not teardown.cluster_mounts(s):
            shutil.rmtree(s.run, ignore_errors=True)
            shutil.rmtree(s.kubelet_root / "pods", ignore_errors=True)
            for entry in s.cni_ipam_dir.glob("*"):
                shutil.rmtree(entry, ignore_errors=True)
            if purge:
                shutil.rmtree(s.state, ignore_errors=True)
        return teardown.leftovers(s)


def status(s: Settings | None = None) -> dict[str, object]:
    s = s or Settings()
    components = {}
    for c in COMPONENTS:
        pid = running_pid(s, c.name)
        components[c.name] = {
            "pid": pid,
            "healthy": pid is not None and s.pki.exists() and healthy(s, c),
        }
    node = storage = None
    if components["kube-apiserver"]["healthy"]:
        from devcluster.storage import storage_status

        node = kubectl(s, "get", "nodes", "-o", "wide", check=False)
        storage = storage_status(s)
    return {
        "components": components,
        "node": node,
        "storage": storage,
        "kubeconfig": str(s.admin_kubeconfig),
    }
