"""A throwaway "pod" for IO-fault tests and benchmarks: a process in its own mount namespace.

The target is `unshare --mount --propagation private sleep infinity`, so a layer mounted in it
is invisible to the host. `Shell` runs Python inside that namespace (as the target's own code
would) and keeps state between calls, e.g. a file held open across a recovery. Everything is
torn down by `target()` whatever happens: layers recovered, servers and processes killed.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from chaosd.faults.base import TargetRef
from chaosd.faults.io import control, family, mounts

_LOOP = r"""
import json, os, sys, time, errno
env = {"os": os, "time": time, "errno": errno}
for line in sys.stdin:
    try:
        exec(json.loads(line), env)
        out = {"ok": True, "result": env.get("result")}
    except BaseException as e:
        out = {"ok": False, "error": repr(e), "errno": getattr(e, "errno", None)}
    env.pop("result", None)
    print(json.dumps(out), flush=True)
"""


class Shell:
    """A Python interpreter inside the target's mount namespace; `run` execs code there and
    returns the value the code assigned to `result`."""

    def __init__(self, pid: int) -> None:
        self.proc = subprocess.Popen(
            ["nsenter", "-t", str(pid), "-m", sys.executable, "-c", _LOOP],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
        )  # fmt: skip

    def run(self, code: str) -> Any:
        assert self.proc.stdin is not None and self.proc.stdout is not None
        self.proc.stdin.write(json.dumps(code) + "\n")
        self.proc.stdin.flush()
        reply = json.loads(self.proc.stdout.readline())
        if not reply["ok"]:
            raise ShellError(reply["error"], reply["errno"])
        return reply["result"]

    def close(self) -> None:
        with contextlib.suppress(ProcessLookupError):
            self.proc.kill()
        self.proc.wait()
        for pipe in (self.proc.stdin, self.proc.stdout):
            if pipe is not None:
                pipe.close()


class ShellError(Exception):
    def __init__(self, text: str, err: int | None) -> None:
        super().__init__(text)
        self.errno = err


@dataclass
class Target:
    ref: TargetRef
    volume: str
    """The faulted directory (same path inside and outside the target)."""
    workdir: str

    @property
    def pid(self) -> int:
        return self.ref.pid

    def shell(self) -> Shell:
        return Shell(self.pid)

    def faultline_mounts(self) -> list[mounts.MountEntry]:
        return mounts.faultline_mounts(mounts.read_mounts(self.pid), self.ref.id)


def io_fault(volume: str, action: str, **fields: Any) -> dict[str, Any]:
    return {"kind": "io", "action": action, "volumePath": volume, **fields}


def _wait_new_mount_ns(pid: int) -> None:
    mine = os.stat("/proc/self/ns/mnt").st_ino
    for _ in range(2000):
        with contextlib.suppress(OSError):
            if os.stat(f"/proc/{pid}/ns/mnt").st_ino != mine:
                return
        time.sleep(0.005)
    raise RuntimeError(f"pid {pid} never entered its own mount namespace")


def wait_for(predicate: Any, what: str, tries: int = 600) -> None:
    """Poll a condition (the kernel releases things asynchronously); fail naming it."""
    for _ in range(tries):
        if predicate():
            return
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for: {what}")


@contextlib.contextmanager
def target(files: dict[str, bytes] | None = None) -> Iterator[Target]:
    assert os.geteuid() == 0, "IO-fault tests need root (mount namespaces, FUSE)"
    workdir = tempfile.mkdtemp(prefix="faultline-io-")
    volume = os.path.join(workdir, "vol")
    os.mkdir(volume)
    for name, data in (files or {}).items():
        path = os.path.join(volume, name)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "wb") as f:
            f.write(data)
    proc = subprocess.Popen(["unshare", "--mount", "--propagation", "private", "sleep", "infinity"])
    ref = TargetRef(f"iotest-{uuid.uuid4().hex[:10]}", proc.pid)
    try:
        _wait_new_mount_ns(proc.pid)
        yield Target(ref, volume, workdir)
    finally:
        with contextlib.suppress(Exception):
            family.recover(ref)
        for server in control.find_servers(ref.id):
            control.kill(server)
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        wait_for(lambda: not control.find_servers(ref.id), "layer servers to exit")
        shutil.rmtree(workdir, ignore_errors=True)
