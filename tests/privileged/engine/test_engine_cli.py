"""The standalone CLI on a plain host: `chaosd attack` injects for its duration, recovers at
the end or on SIGTERM, and a killed attack is recovered by the next `chaosd recover`."""

from __future__ import annotations

import signal
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from engine_lab import CHAOSD, Pod, inspect, reachable

pytestmark = pytest.mark.privileged


@pytest.fixture(autouse=True)
def _reap() -> Iterator[None]:
    """Whatever a test leaves running (it failed halfway) is killed and its pipe closed."""
    yield
    for proc in _started:
        if proc.poll() is None:
            proc.kill()
        if proc.stdout is not None and not proc.stdout.closed:
            proc.communicate()
        proc.wait()
    _started.clear()


_started: list[subprocess.Popen[bytes]] = []


def _attack(state: Path, pod: Pod, peer: Pod, duration: str) -> subprocess.Popen[bytes]:
    proc = subprocess.Popen(
        [*CHAOSD, "attack", "network", "partition", "--pid", str(pod.pid), "--peer", peer.ip,
         "--direction", "both", "--duration", duration, "--state-dir", str(state)],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
    )  # fmt: skip
    _started.append(proc)
    return proc


def _wait_injected(pod: Pod, proc: subprocess.Popen[bytes]) -> None:
    for _ in range(600):
        if inspect(pod)["nft_table"]:
            return
        assert proc.poll() is None, proc.stdout.read() if proc.stdout else b""
        time.sleep(0.05)
    raise AssertionError("the attack never injected")


def test_attack_runs_for_its_duration_then_recovers(tmp_path: Path, pods: list[Pod]) -> None:
    a, b = pods
    proc = _attack(tmp_path, a, b, "3s")
    _wait_injected(a, proc)
    assert not reachable(a, b)
    out, _ = proc.communicate(timeout=60)
    assert proc.returncode == 0, out
    assert not inspect(a)["nft_table"]
    assert reachable(a, b)


def test_sigterm_recovers_at_once(tmp_path: Path, pods: list[Pod]) -> None:
    a, b = pods
    proc = _attack(tmp_path, a, b, "10m")
    _wait_injected(a, proc)
    proc.send_signal(signal.SIGTERM)
    proc.communicate(timeout=60)
    assert not inspect(a)["nft_table"]
    assert reachable(a, b)


def test_a_killed_attack_is_recovered_by_recover_all(tmp_path: Path, pods: list[Pod]) -> None:
    a, b = pods
    proc = _attack(tmp_path, a, b, "10m")
    _wait_injected(a, proc)
    proc.kill()  # no chance to clean up: the journal and the lease must
    proc.communicate()
    assert inspect(a)["nft_table"]
    status = subprocess.run(
        [*CHAOSD, "status", "--state-dir", str(tmp_path)], capture_output=True, text=True
    )
    assert a.id in status.stdout or str(a.pid) in status.stdout, status.stdout
    subprocess.run([*CHAOSD, "recover", "--all", "--state-dir", str(tmp_path)], check=True)
    assert not inspect(a)["nft_table"]
    assert reachable(a, b)
