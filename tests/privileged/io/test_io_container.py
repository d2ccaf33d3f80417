"""A target with its own root filesystem, as a container has: the daemon's files are not there.

The layer server must have loaded everything it needs before it enters the target's mount
namespace; this catches any late import or path that only works when roots are shared.
"""

from __future__ import annotations

import contextlib
import errno
import os
import shutil
import subprocess
import tempfile
import uuid
from collections.abc import Iterator

import pytest
from iolab import wait_for

from chaosd.faults.base import TargetRef
from chaosd.faults.io import IOFamily, control, owned

pytestmark = pytest.mark.privileged

# Inside the new namespace: make the rootfs a mount, pivot into it, drop the old root.
PIVOT = (
    "mount --bind {root} {root} && cd {root} && pivot_root . old && "
    "exec /bin/busybox chroot . /bin/busybox sh -c "
    "'/bin/busybox umount -l /old && exec /bin/busybox sleep 1000000'"
)


@pytest.fixture
def container() -> Iterator[TargetRef]:
    root = tempfile.mkdtemp(prefix="faultline-io-root-")
    for d in ("bin", "old", "vol", "proc"):
        os.mkdir(os.path.join(root, d))
    shutil.copy("/bin/busybox", os.path.join(root, "bin/busybox"))
    with open(os.path.join(root, "vol/a.txt"), "w") as f:
        f.write("inside the container\n")
    proc = subprocess.Popen(["unshare", "--mount", "--propagation", "private", "sh", "-c",
                             PIVOT.format(root=root)])  # fmt: skip
    ref = TargetRef(f"iotest-{uuid.uuid4().hex[:10]}", proc.pid)
    try:
        wait_for(lambda: _cat(proc.pid, "/vol/a.txt")[0] == 0, "the container to pivot")
        yield ref
    finally:
        with contextlib.suppress(Exception):
            IOFamily().recover(ref)
        for server in control.find_servers(ref.id):
            control.kill(server)
        proc.kill()
        proc.wait()
        wait_for(lambda: not control.find_servers(ref.id), "layer servers to exit")
        shutil.rmtree(root, ignore_errors=True)


def _cat(pid: int, path: str) -> tuple[int, str]:
    out = subprocess.run(["nsenter", "-t", str(pid), "-m", "--", "/bin/busybox", "cat", path],
                         capture_output=True, text=True)  # fmt: skip
    return out.returncode, out.stdout + out.stderr


def test_layer_in_a_container_with_its_own_root(io: IOFamily, container: TargetRef) -> None:
    fault = {"kind": "io", "action": "fault", "volumePath": "/vol", "errno": errno.EIO}
    io.apply(container, io.plan(container, [fault]))
    assert io.verify(container, io.plan(container, [fault])).ok
    code, text = _cat(container.pid, "/vol/a.txt")
    assert code != 0 and "Input/output error" in text

    latency = {**fault, "action": "latency", "delay": "1ms"}
    io.apply(container, io.plan(container, [latency]))  # live reconfiguration
    assert _cat(container.pid, "/vol/a.txt") == (0, "inside the container\n")

    io.recover(container)
    wait_for(lambda: not owned(container.pid)["servers"], "the server to exit")
    assert owned(container.pid)["mounts"] == []
    assert _cat(container.pid, "/vol/a.txt") == (0, "inside the container\n")
