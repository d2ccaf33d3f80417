"""Reconfiguring, verifying and recovering IO fault layers, including after crashes."""

from __future__ import annotations

import errno
import os
import signal

import pytest
from iolab import Shell, ShellError, Target, io_fault, wait_for

from chaosd.faults.io import IOFamily, control, owned

pytestmark = pytest.mark.privileged


def _read_fails(shell: Shell, path: str) -> int | None:
    try:
        shell.run(f"result = open({path!r}).read()")
    except ShellError as e:
        return e.errno
    return None


def test_reapply_reconfigures_without_remounting(
    io: IOFamily, target: Target, shell: Shell
) -> None:
    path = target.volume + "/a.txt"
    eio = io.plan(target.ref, [io_fault(target.volume, "fault", errno=errno.EIO)])
    io.apply(target.ref, eio)
    (mount,) = target.faultline_mounts()
    (server,) = owned(target.pid)["servers"]
    assert _read_fails(shell, path) == errno.EIO

    io.apply(target.ref, eio)  # the same set again changes nothing
    assert target.faultline_mounts() == [mount]
    assert io.verify(target.ref, eio).ok

    enospc = io.plan(target.ref, [io_fault(target.volume, "fault", errno=errno.ENOSPC)])
    io.apply(target.ref, enospc)
    assert target.faultline_mounts() == [mount]  # same mount id: no remount
    assert owned(target.pid)["servers"] == [server]
    assert _read_fails(shell, path) == errno.ENOSPC
    assert io.verify(target.ref, enospc).ok
    assert not io.verify(target.ref, eio).ok

    io.apply(target.ref, io.plan(target.ref, []))  # an empty set is a recovery
    wait_for(lambda: not owned(target.pid)["servers"], "the released server to exit")
    assert target.faultline_mounts() == []
    assert _read_fails(shell, path) is None


def test_recover_with_a_file_held_open(io: IOFamily, target: Target, shell: Shell) -> None:
    held = target.volume + "/held.txt"
    io.apply(target.ref, io.plan(target.ref, [
        io_fault(target.volume, "fault", errno=errno.EIO, path="a.txt"),
        io_fault(target.volume, "latency", delay="5ms", methods=["write"]),
    ]))  # fmt: skip
    shell.run(f"held = open({held!r}, 'w+'); held.write('during fault\\n'); held.flush()")
    assert _read_fails(shell, target.volume + "/a.txt") == errno.EIO

    io.recover(target.ref)

    assert target.faultline_mounts() == []  # new opens reach the real directory
    assert _read_fails(shell, target.volume + "/a.txt") is None
    assert owned(target.pid)["servers"], "the layer keeps serving the open file"
    content = shell.run("held.write('after recover\\n'); held.flush(); held.seek(0); "
                        "result = held.read()")  # fmt: skip
    assert content == "during fault\nafter recover\n"
    io.recover(target.ref)  # idempotent while the open file drains
    shell.run("held.close()")
    wait_for(lambda: not owned(target.pid)["servers"], "the drained server to exit")
    with open(held) as f:
        assert f.read() == "during fault\nafter recover\n"  # nothing written was lost


def test_recover_after_the_server_crashed(io: IOFamily, target: Target, shell: Shell) -> None:
    io.apply(target.ref, io.plan(target.ref, [io_fault(target.volume, "fault", errno=errno.EIO)]))
    (server,) = owned(target.pid)["servers"]
    os.kill(server["pid"], signal.SIGKILL)
    wait_for(lambda: not control.find_servers(target.ref.id), "the killed server to vanish")
    # A dead layer: ENOTCONN, or ECONNABORTED when the kernel ended a request that was in
    # flight as the connection went down.
    assert _read_fails(shell, target.volume + "/a.txt") in (errno.ENOTCONN, errno.ECONNABORTED)
    assert len(target.faultline_mounts()) == 1

    io.recover(target.ref)

    assert target.faultline_mounts() == []
    assert _read_fails(shell, target.volume + "/a.txt") is None


def test_recover_ends_a_hung_server(io: IOFamily, target: Target, shell: Shell) -> None:
    io.apply(target.ref, io.plan(target.ref, [io_fault(target.volume, "fault", errno=errno.EIO)]))
    (server,) = owned(target.pid)["servers"]
    os.kill(server["pid"], signal.SIGSTOP)
    io.recover(target.ref)  # it does not answer: abort its connection, unmount, kill it
    assert target.faultline_mounts() == []
    wait_for(lambda: not control.find_servers(target.ref.id), "the hung server to be killed")
    assert _read_fails(shell, target.volume + "/a.txt") is None


def test_recover_without_apply_and_twice(io: IOFamily, target: Target, shell: Shell) -> None:
    io.recover(target.ref)
    io.recover(target.ref)
    assert owned(target.pid) == {"mounts": [], "servers": []}
    assert _read_fails(shell, target.volume + "/a.txt") is None


def test_server_exits_when_the_target_dies(io: IOFamily, target: Target) -> None:
    io.apply(target.ref, io.plan(target.ref, [io_fault(target.volume, "fault", errno=errno.EIO)]))
    assert control.find_servers(target.ref.id)
    os.kill(target.pid, signal.SIGKILL)
    wait_for(lambda: not control.find_servers(target.ref.id), "the server to notice")
    io.recover(target.ref)  # quiet when the target is gone


def test_shared_volume_is_refused(io: IOFamily, target: Target, shell: Shell) -> None:
    # A layer on a shared mount would propagate to its peers; refuse with a clear reason.
    shell.run(f"""
import subprocess
subprocess.run(["mount", "--bind", {target.volume!r}, {target.volume!r}], check=True)
subprocess.run(["mount", "--make-shared", {target.volume!r}], check=True)
""")
    plan = io.plan(target.ref, [io_fault(target.volume, "fault", errno=errno.EIO)])
    with pytest.raises(Exception, match="shared mount"):
        io.apply(target.ref, plan)
    assert target.faultline_mounts() == []
