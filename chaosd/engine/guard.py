"""Which processes chaosd will act on at all, whatever the caller asks.

chaosd runs as root in the host PID namespace, so a PID in a request could name anything on the
node. Three rules hold before any fault is planned or any signal sent:

* Node agents are never targets: PID 1, chaosd itself (in Kubernetes, its whole container), the
  kubelet, the container runtime and its shims. Losing one takes the node (and every fault's
  recovery) down.
* In Kubernetes mode the PID must belong to a running pod container on this node, as the
  container runtime says (or, without a CRI socket, as the `kubepods` cgroup says); chaosd's own
  container is excluded. A host process outside any pod is refused.
* A network fault on a process that shares the host's network namespace (a hostNetwork pod, a
  host process) acts on the node's own network: refused unless the request sets `hostNetwork`.

Every refusal is an InvalidRequest naming the field, raised before anything is journaled.
"""

from __future__ import annotations

import contextlib
import os
from pathlib import Path
from typing import Protocol

from chaosd.cri import PodContainer, container_ids_in_cgroup
from chaosd.engine.errors import InvalidRequest

NODE_AGENTS = frozenset(
    {"kubelet", "containerd", "dockerd", "crio", "conmon", "runc", "crun", "systemd", "init"}
)
AGENT_PREFIXES = ("containerd-shim",)


class PodMembership(Protocol):
    """Finds the pod container a process belongs to (chaosd/lookup.py implements it)."""

    def pod_container(self, pid: int, cgroup: str) -> PodContainer | None: ...


def _read(path: Path) -> str | None:
    try:
        return path.read_text()
    except OSError:
        return None


def _netns(path: Path) -> int | None:
    try:
        return os.stat(path).st_ino
    except OSError:
        return None


def host_netns_inode(proc: Path = Path("/proc")) -> int | None:
    """The host's network namespace: PID 1's, or, where PID 1 is shielded from us (some
    sandboxes), kthreadd's (PID 2), since kernel threads always live in the initial one."""
    found = _netns(proc / "1" / "ns" / "net")
    if found is None and (_read(proc / "2" / "comm") or "").strip() == "kthreadd":
        found = _netns(proc / "2" / "ns" / "net")
    return found


def _names(proc: Path, pid: int) -> set[str]:
    names = {(_read(proc / str(pid) / "comm") or "").strip()}
    with contextlib.suppress(OSError):
        names.add(os.path.basename(os.readlink(proc / str(pid) / "exe")).removesuffix(" (deleted)"))
    return names - {""}


class TargetGuard:
    def __init__(self, *, pods: PodMembership | None = None, proc: Path = Path("/proc")) -> None:
        self.pods = pods
        """None: host mode (any process but node agents); set: Kubernetes mode."""
        self.proc = proc
        self.own_pid = os.getpid()
        self.host_netns = host_netns_inode(proc)
        # chaosd's own container (none on a plain host): its processes are chaosd's too.
        self._own_containers = set(container_ids_in_cgroup(_read(proc / "self" / "cgroup") or ""))

    @property
    def mode(self) -> str:
        return "kubernetes" if self.pods is not None else "host"

    def check_process(self, pid: int) -> None:
        """Refuse node agents and, in Kubernetes mode, anything not in a pod container."""
        if pid == 1:
            raise InvalidRequest(("pid",), "PID 1 is the node's init; chaosd never acts on it")
        if pid == self.own_pid:
            raise InvalidRequest(("pid",), f"PID {pid} is chaosd itself")
        names = _names(self.proc, pid)
        # the executable's name when readable: comm is cut at 15 characters
        agent = sorted(
            (n for n in names if n in NODE_AGENTS or n.startswith(AGENT_PREFIXES)), key=len
        )
        if agent:
            raise InvalidRequest(
                ("pid",), f"PID {pid} is {agent[-1]}, a node agent; chaosd never acts on it"
            )
        if self.pods is None:
            return
        cgroup = _read(self.proc / str(pid) / "cgroup")
        if cgroup is None:
            raise InvalidRequest(("pid",), f"no process with PID {pid} on this node")
        if self._own_containers & set(container_ids_in_cgroup(cgroup)):
            raise InvalidRequest(("pid",), f"PID {pid} is in chaosd's own container")
        if self.pods.pod_container(pid, cgroup) is None:
            raise InvalidRequest(
                ("pid",),
                f"PID {pid} is not in a running pod container on this node; in Kubernetes mode "
                "chaosd acts only on pod containers (host processes are refused)",
            )

    def check_network(self, pid: int, *, host_network: bool) -> None:
        """Refuse network faults in the host's network namespace unless opted in."""
        if host_network:
            return
        target = _netns(self.proc / str(pid) / "ns" / "net")
        if self.host_netns is None or target is None or target == self.host_netns:
            where = (
                "shares the host's network namespace"
                if target is not None and target == self.host_netns
                else "may share the host's network namespace (it cannot be compared)"
            )
            raise InvalidRequest(
                ("hostNetwork",),
                f"PID {pid} {where}: a network fault there acts on the node's own network "
                "(kubelet, every hostNetwork pod); set hostNetwork: true on the target to allow "
                "it (chaosd CLI: --host-network)",
            )
