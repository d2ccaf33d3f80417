"""Find the processes of a Kubernetes container without assuming a container runtime.

Every runtime (containerd, CRI-O, with the cgroupfs or the systemd driver) puts a container's
processes in a cgroup whose path contains the container id (`.../<id>`, `cri-containerd-<id>.scope`,
`crio-<id>.scope`). Scanning `/proc/*/cgroup` for the id therefore works for all of them and needs
neither the CRI socket nor runtime-specific state files. Of the matching processes, the one whose
parent is outside the container is the container's init (its "main process").
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path

_RUNTIME_PREFIX = re.compile(r"^(containerd|cri-o|docker|crio)://")
_ID = re.compile(r"^[0-9a-f]{12,128}$")
_CGROUP_ID = re.compile(r"^(?:[a-z-]+-)?([0-9a-f]{64})(?:\.scope)?$")
"""A cgroup directory named after a container: `<id>`, `cri-containerd-<id>.scope`, ..."""


class ContainerNotFound(LookupError):
    """No live process belongs to the container id (container gone, or not on this node)."""


@dataclass(frozen=True)
class ContainerProcess:
    container_id: str
    pid: int


def normalise_container_id(container_id: str) -> str:
    """Accept `containerd://<hex>` (as in pod status) or a bare id; return the bare hex id."""
    bare = _RUNTIME_PREFIX.sub("", container_id.strip())
    if not _ID.match(bare):
        raise ValueError(
            f"containerID: {container_id!r} is not a container id "
            "(expected '<runtime>://<hex>' as in a pod's status.containerStatuses[].containerID)"
        )
    return bare


@dataclass(frozen=True)
class PodContainer:
    container_id: str
    pod: str
    """`namespace/name` when the runtime says, else empty."""


def container_ids_in_cgroup(cgroup_text: str) -> list[str]:
    """The container ids a /proc/<pid>/cgroup file places the process in (usually one)."""
    found: list[str] = []
    for line in cgroup_text.splitlines():
        last = line.split(":", 2)[-1].rstrip("/").rsplit("/", 1)[-1]
        match = _CGROUP_ID.match(last)
        if match and match.group(1) not in found:
            found.append(match.group(1))
    return found


def in_kubepods(cgroup_text: str) -> bool:
    """True when the kubelet's cgroup tree (`kubepods`, `kubepods.slice`) holds the process."""
    return any("/kubepods" in line.split(":", 2)[-1] for line in cgroup_text.splitlines())


def cgroup_mentions(cgroup_text: str, container_id: str) -> bool:
    """True when a line of a /proc/<pid>/cgroup file places the process in the container."""
    for line in cgroup_text.splitlines():
        path = line.split(":", 2)[-1]
        last = path.rstrip("/").rsplit("/", 1)[-1]
        if last == container_id or (container_id in last and last.endswith(".scope")):
            return True
    return False


def _ppid(proc: Path, pid: int) -> int:
    stat = (proc / str(pid) / "stat").read_text()
    return int(stat.rsplit(")", 1)[1].split()[1])


def container_main_pid(container_id: str, *, proc: Path = Path("/proc")) -> ContainerProcess:
    """Return the container's main process (the member whose parent is not a member)."""
    cid = normalise_container_id(container_id)
    members: set[int] = set()
    for entry in os.scandir(proc):
        if not entry.name.isdigit():
            continue
        try:
            text = (proc / entry.name / "cgroup").read_text()
        except OSError:
            continue  # exited while scanning, or not readable
        if cgroup_mentions(text, cid):
            members.add(int(entry.name))
    for pid in sorted(members):
        try:
            if _ppid(proc, pid) not in members:
                return ContainerProcess(cid, pid)
        except (OSError, IndexError, ValueError):
            continue
    raise ContainerNotFound(f"containerID: no live process of container {cid[:12]} on this node")
