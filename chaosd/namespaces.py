"""A target is its namespaces, not a process: finding a live way into them.

A target is journaled with the identity (inode) of its network and mount namespaces. The PID
the caller named is only the first way in: when that process exits while its namespaces live on
(a pod's sandbox holds the netns while a container restarts), chaosd acts through any other
process that is still a member. A namespace is gone when no process is a member.

Faultline's own helpers (delayers in the netns, IO layer servers in the mntns) are members too.
They are a way in for recovery, but no reason to keep a fault: a namespace that only Faultline's
helpers still hold has lost its workload, and its faults are recovered.

Every function reads the node's /proc, or the procfs that `proc_fd` names: a helper that entered
a target's mount namespace keeps a descriptor of the node's /proc to look at the node's processes.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

from chaosd import procs
from chaosd.faults.base import HELPER_MARKERS
from chaosd.journal import Identity

NAMESPACES = ("net", "mnt")


def inode(pid: int | str, ns: str, proc_fd: int | None = None) -> int | None:
    try:
        if proc_fd is None:
            return os.stat(f"/proc/{pid}/ns/{ns}").st_ino
        return os.stat(f"{pid}/ns/{ns}", dir_fd=proc_fd).st_ino
    except OSError:
        return None


def identity(pid: int) -> Identity | None:
    """The namespaces of `pid`, or None when the process does not exist."""
    net, mnt = inode(pid, "net"), inode(pid, "mnt")
    return None if net is None or mnt is None else Identity(net, mnt)


def is_helper(pid: int | str, proc_fd: int | None = None) -> bool:
    try:
        argv = procs.read(f"{pid}/cmdline", proc_fd).split(b"\0")
    except OSError:
        return False
    return any(a.decode(errors="replace") in HELPER_MARKERS for a in argv)


@dataclass(frozen=True)
class Member:
    pid: int
    helper: bool


def find(ns: str, ino: int, *, proc_fd: int | None = None, exclude: int = 0) -> Member | None:
    """A live member of the namespace: a workload process when there is one (the one started
    first, likeliest the holder that created it: a pod's sandbox; PIDs wrap, start times do
    not), else one of Faultline's helpers, else None."""
    names = os.listdir(proc_fd if proc_fd is not None else "/proc")
    best: tuple[bool, int, int] | None = None
    for pid in (int(n) for n in names if n.isdigit()):
        if pid == exclude or inode(pid, ns, proc_fd) != ino:
            continue
        started = procs.start_time(pid, proc_fd)
        if started is None:
            continue  # exited, or a zombie: it holds no namespace
        rank = (is_helper(pid, proc_fd), started, pid)
        if best is None or rank < best:
            best = rank
    return None if best is None else Member(best[2], helper=best[0])


@dataclass(frozen=True)
class Reach:
    """The way into each of a target's namespaces right now; 0 where no process is a member."""

    pids: dict[str, int]
    holder: int
    """A workload process (not a Faultline helper) still in the namespaces; 0: none is left."""

    @property
    def workload(self) -> bool:
        return self.holder != 0

    def pid(self, ns: str) -> int:
        return self.pids.get(ns, 0)

    @property
    def gone(self) -> bool:
        return not any(self.pids.values())


def reach(pid: int, start_time: int, ident: Identity | None) -> Reach:
    """How to enter a target journaled as (`pid`, `start_time`, `ident`).

    Without an identity (a journal entry older than namespace binding) the process is the
    target, as it was then."""
    alive = procs.alive(pid, start_time)
    if ident is None:
        return Reach({ns: pid if alive else 0 for ns in NAMESPACES}, pid if alive else 0)
    pids: dict[str, int] = {}
    holder = 0
    for ns, ino in (("net", ident.netns), ("mnt", ident.mntns)):
        if alive and inode(pid, ns) == ino:
            pids[ns] = holder = pid
            continue
        member = find(ns, ino)
        pids[ns] = member.pid if member else 0
        if member and not member.helper and not holder:
            holder = member.pid
    return Reach(pids, holder)
