"""A target is its namespaces: when the process that named it dies while another process (the
"holder", as a pod's sandbox) keeps the namespaces, the faults stay in force while desired and
are removed completely at the lease's lapse, on DELETE and at an attack's end."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import time
from collections.abc import Iterator

import httpx
import pytest
from engine_lab import CHAOSD, Daemon, Pod, inspect, reachable

pytestmark = pytest.mark.privileged


@contextlib.contextmanager
def member_of(holder: Pod) -> Iterator[subprocess.Popen[bytes]]:
    """A second process in the holder's network and mount namespaces."""
    proc = subprocess.Popen(
        ["nsenter", f"--net=/proc/{holder.pid}/ns/net", f"--mount=/proc/{holder.pid}/ns/mnt",
         "--", "sleep", "infinity"]
    )  # fmt: skip
    want = os.stat(f"/proc/{holder.pid}/ns/mnt").st_ino
    while True:  # nsenter execs sleep once it has entered both
        with contextlib.suppress(FileNotFoundError):
            if os.stat(f"/proc/{proc.pid}/ns/mnt").st_ino == want:
                break
        assert proc.poll() is None, "nsenter exited"
        time.sleep(0.005)
    try:
        yield proc
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.wait()


def _faults(a: Pod, b: Pod) -> list[dict[str, object]]:
    return [
        {"kind": "loss", "loss": 100, "peers": [{"cidr": f"{b.ip}/32"}], "direction": "both"},
        {"kind": "delay", "latency": "20ms"},
        {"kind": "io", "action": "fault", "volumePath": a.volume, "errno": 5},
    ]


def _wait_clean(pod: Pod, bound: float = 60.0) -> dict[str, object]:
    """Poll until nothing Faultline-owned is left (the bound only stops a hung test)."""
    deadline = time.monotonic() + bound
    held = inspect(pod)
    while any(held.values()) and time.monotonic() < deadline:
        time.sleep(0.05)
        held = inspect(pod)
    return held


def _in_force(c: httpx.Client, a: Pod, b: Pod) -> None:
    held = inspect(a)
    assert held["nft_table"] and held["delayers"] and held["fuse_mounts"], held
    assert not reachable(a, b)
    status = c.get(f"/targets/{a.id}")
    assert status.status_code == 200, status.text
    families = status.json()["families"]
    assert families["network"]["ok"] and families["io"]["ok"], families


@pytest.mark.parametrize("end", ["lease-lapse", "delete"])
def test_faults_outlive_the_member_and_are_removed_at_the_end(
    daemon: Daemon, pods: list[Pod], end: str
) -> None:
    a, b = pods
    daemon.start()
    with member_of(a) as member, daemon.client() as c:
        lease = 4.0 if end == "lease-lapse" else 300.0
        body = {"pid": member.pid, "faults": _faults(a, b), "lease_seconds": lease}
        r = c.put(f"/targets/{a.id}", json=body)
        assert r.status_code == 200, r.text
        _in_force(c, a, b)
        member.send_signal(signal.SIGKILL)
        member.wait()
        time.sleep(1.0)  # several reaper passes: the old code dropped the target here
        _in_force(c, a, b)  # still desired, still in force, checked through the holder
        if end == "delete":
            assert c.post(f"/targets/{a.id}/renew").status_code == 200
            assert c.delete(f"/targets/{a.id}").status_code == 204
        held = _wait_clean(a)
        assert not any(held.values()), held
        assert reachable(a, b)
        assert c.get(f"/targets/{a.id}").status_code == 404
        # DELETE of a target already recovered is "nothing there", not an error
        assert c.delete(f"/targets/{a.id}").status_code == 404


def test_target_is_dropped_only_when_its_namespaces_are_gone(
    daemon: Daemon, pods: list[Pod]
) -> None:
    """The holder goes too: only Faultline's own helpers hold the namespaces now, so the target
    has lost its reason and is recovered (its helpers stopped), then forgotten."""
    a, b = pods
    daemon.start()
    with member_of(a) as member, daemon.client() as c:
        body = {"pid": member.pid, "faults": _faults(a, b), "lease_seconds": 300}
        r = c.put(f"/targets/{a.id}", json=body)
        assert r.status_code == 200, r.text
        helpers = inspect(a)["delayers"] + inspect(a)["iofs_servers"]
        assert helpers
        member.kill()
        member.wait()
        a.proc.kill()
        a.proc.wait()
        deadline = time.monotonic() + 60
        while c.get(f"/targets/{a.id}").status_code == 200 and time.monotonic() < deadline:
            time.sleep(0.05)
        assert c.get(f"/targets/{a.id}").status_code == 404

        def alive() -> list[int]:
            return [p for p in helpers if os.path.exists(f"/proc/{p}")]

        while alive() and time.monotonic() < deadline:  # a delayer flushes what it holds first
            time.sleep(0.05)
        assert not alive(), f"helpers left running: {alive()}"


def test_attack_duration_end_removes_faults_after_the_member_died(
    tmp_path: object, pods: list[Pod]
) -> None:
    """`chaosd attack` (standalone, no server): the named process dies mid-attack; when the
    duration ends, every fault is removed from the namespace the holder keeps."""
    a, b = pods
    state = str(tmp_path)
    with member_of(a) as member:
        attack = subprocess.Popen(
            [*CHAOSD, "attack", "network", "loss", "--pid", str(member.pid), "--percent", "100",
             "--peer", f"{b.ip}/32", "--direction", "both", "--duration", "4s",
             "--state-dir", state],
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
        )  # fmt: skip
        deadline = time.monotonic() + 60
        while not inspect(a)["nft_table"] and time.monotonic() < deadline:
            assert attack.poll() is None, attack.stdout.read() if attack.stdout else ""
            time.sleep(0.05)
        member.kill()
        member.wait()
        assert inspect(a)["nft_table"] and not reachable(a, b)
        out, _ = attack.communicate(timeout=60)
    assert attack.returncode == 0, out
    held = inspect(a)
    assert not any(held.values()), held
    assert reachable(a, b)
