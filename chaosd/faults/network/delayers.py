"""Starting, finding and stopping delayer processes.

A delayer is found by scanning /proc for its marker and target id, never by a remembered pid,
so recovery works after chaosd restarted or crashed halfway through an apply.
"""

from __future__ import annotations

import contextlib
import os
import select
import signal
import subprocess
import sys
import time
from dataclasses import dataclass

from chaosd import nsexec
from chaosd.faults.base import FaultError
from chaosd.faults.network import delayer as delayer_script
from chaosd.faults.network.plan import DelayerSpec

MARKER = delayer_script.MARKER
SCRIPT = os.path.abspath(delayer_script.__file__)
# Liveness guards, not measurements: how long a healthy delayer takes to bind its queue or to
# flush its held packets and exit on SIGTERM, even on a loaded node.
READY_TIMEOUT = 30.0
STOP_TIMEOUT = 5.0


@dataclass(frozen=True)
class RunningDelayer:
    pid: int
    args: tuple[str, ...]
    """Arguments after the script path, starting with the marker."""

    @property
    def target_id(self) -> str:
        return dict(a.split("=", 1) for a in self.args[1:] if "=" in a).get("target", "")


def _cmdline(pid: int) -> list[str]:
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as f:
            return [a.decode(errors="replace") for a in f.read().split(b"\0") if a]
    except OSError:
        return []


def find(target_id: str | None = None, netns_inode: int | None = None) -> list[RunningDelayer]:
    """Running delayers, optionally only those of one target id or inside one netns."""
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        argv = _cmdline(int(entry))
        if MARKER not in argv:
            continue
        d = RunningDelayer(int(entry), tuple(argv[argv.index(MARKER) :]))
        if target_id is not None and d.target_id != target_id:
            continue
        if netns_inode is not None:
            with contextlib.suppress(FaultError):
                if nsexec.ns_inode(d.pid) != netns_inode:
                    continue
        found.append(d)
    return found


def start(pid: int, target_id: str, spec: DelayerSpec) -> int:
    """Start a delayer in the target's netns and wait until its queue is bound."""
    argv = [sys.executable, SCRIPT, *spec.args(target_id)]
    proc = nsexec.spawn(pid, argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE)
    assert proc.stdout is not None
    ready, _, _ = select.select([proc.stdout], [], [], READY_TIMEOUT)
    line = proc.stdout.readline() if ready else b""
    proc.stdout.close()
    if line.strip() != b"ready":
        stop([proc.pid])
        raise FaultError(f"delay: the delayer for queue {spec.queue} did not start ({line!r})")
    _CHILDREN[proc.pid] = proc
    return proc.pid


# Delayers this process started: reaped on stop so they do not linger as zombies.
_CHILDREN: dict[int, subprocess.Popen[bytes]] = {}


def _gone(pid: int) -> bool:
    proc = _CHILDREN.get(pid)
    if proc is not None:
        return proc.poll() is not None
    # A zombie has an empty cmdline: it no longer holds a queue, only its parent can reap it.
    return not os.path.exists(f"/proc/{pid}") or not _cmdline(pid)


def stop(pids: list[int]) -> None:
    """SIGTERM (the delayer lets held packets go), then SIGKILL whatever is still there."""
    for pid in pids:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + STOP_TIMEOUT
    while time.monotonic() < deadline and not all(_gone(p) for p in pids):
        time.sleep(0.01)
    for pid in pids:
        if not _gone(pid):
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        proc = _CHILDREN.pop(pid, None)
        if proc is not None:
            proc.wait()
