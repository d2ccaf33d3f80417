"""Which processes chaosd refuses before anything is journaled, with real processes: PID 1,
chaosd itself, node agents (by their executable's name), host processes in Kubernetes mode, and
network faults in the host's network namespace unless the target opts in with `hostNetwork`.

(The Kubernetes-mode path that accepts a real pod container, through the real containerd, is
tests/e2e/test_chaosd_guard.py.)
"""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from core_fakes import RecordingFamily

from chaosd.auth import AuthConfig
from chaosd.cri import PodContainer
from chaosd.cri_grpc import CRIError
from chaosd.engine import Engine, InvalidRequest, Registry, TargetGuard
from chaosd.journal import Journal
from chaosd.lookup import ProcLookup
from chaosd.model import DesiredState, LossFault
from chaosd.procs import start_time
from chaosd.server import create_app
from tests.support.net import serve_asgi

LOSS = LossFault(loss=10)


@pytest.fixture
def guarded(journal: Journal, families: dict[str, RecordingFamily]) -> Iterator[Engine]:
    e = Engine(journal, Registry(families), guard=TargetGuard())  # type: ignore[arg-type]
    yield e
    e.close()


@pytest.fixture(params=["kubelet", "containerd", "containerd-shim-runc-v2"])
def agent(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[subprocess.Popen[bytes]]:
    """`sleep` under a node agent's name: what chaosd sees of an agent is its executable."""
    exe = tmp_path / str(request.param)
    shutil.copy(shutil.which("sleep") or "/bin/sleep", exe)
    p = subprocess.Popen([str(exe), "300"])
    while os.readlink(f"/proc/{p.pid}/exe") != str(exe):  # until exec has happened
        pass
    yield p
    p.kill()
    p.wait()


def _refused(engine: Engine, desired: DesiredState) -> InvalidRequest:
    with pytest.raises(InvalidRequest) as e:
        engine.put("t1", desired)
    return e.value


def test_network_fault_in_the_host_netns_needs_the_opt_in(
    guarded: Engine, families: dict[str, RecordingFamily], proc: subprocess.Popen[bytes]
) -> None:
    assert os.stat(f"/proc/{proc.pid}/ns/net").st_ino == guarded.guard.host_netns  # type: ignore[union-attr]
    err = _refused(guarded, DesiredState(pid=proc.pid, faults=[LOSS]))
    assert err.loc == ("hostNetwork",) and "shares the host's network namespace" in err.msg
    assert "hostNetwork: true" in err.msg
    assert guarded.targets() == [] and families["network"].calls == []
    guarded.put("t1", DesiredState(pid=proc.pid, faults=[LOSS], hostNetwork=True))
    assert families["network"].ops("apply") == [("apply", "t1", ["loss"])]


def test_io_faults_and_recovery_are_not_network_faults(
    guarded: Engine, families: dict[str, RecordingFamily], proc: subprocess.Popen[bytes]
) -> None:
    io = {"kind": "io", "action": "fault", "volumePath": "/data", "errno": 5}
    guarded.put("t1", DesiredState.model_validate({"pid": proc.pid, "faults": [io]}))
    assert families["io"].ops("apply") == [("apply", "t1", ["io"])]
    guarded.put("t1", DesiredState(pid=proc.pid, faults=[]))  # an empty set only removes
    assert families["io"].ops("recover")


def test_init_and_chaosd_itself_are_never_targets(
    guarded: Engine, families: dict[str, RecordingFamily]
) -> None:
    for pid, why in [(1, "node's init"), (os.getpid(), "chaosd itself")]:
        err = _refused(guarded, DesiredState(pid=pid, faults=[LOSS], hostNetwork=True))
        assert err.loc == ("pid",) and why in err.msg
    assert guarded.targets() == [] and families["network"].calls == []


def test_node_agents_are_never_targets(
    guarded: Engine, families: dict[str, RecordingFamily], agent: subprocess.Popen[bytes]
) -> None:
    born = start_time(agent.pid)
    io = {"kind": "io", "action": "fault", "volumePath": "/data", "errno": 5}
    err = _refused(guarded, DesiredState.model_validate({"pid": agent.pid, "faults": [io]}))
    assert err.loc == ("pid",) and "a node agent" in err.msg
    assert os.path.basename(os.readlink(f"/proc/{agent.pid}/exe")) in err.msg
    with pytest.raises(InvalidRequest, match="node agent"):
        TargetGuard().check_process(agent.pid)  # what /signal asks before sending
    assert start_time(agent.pid) == born  # still the same, untouched process
    assert guarded.targets() == [] and families["io"].calls == []


def test_kubernetes_mode_refuses_a_host_process(
    journal: Journal, families: dict[str, RecordingFamily], proc: subprocess.Popen[bytes]
) -> None:
    guard = TargetGuard(pods=ProcLookup())
    engine = Engine(journal, Registry(families), guard=guard)  # type: ignore[arg-type]
    try:
        err = _refused(engine, DesiredState(pid=proc.pid, faults=[LOSS], hostNetwork=True))
    finally:
        engine.close()
    assert guard.mode == "kubernetes"
    assert err.loc == ("pid",) and "not in a running pod container on this node" in err.msg
    assert engine.targets() == [] and families["network"].calls == []


class _Pods:
    """The container runtime's answer, fixed: every PID is (or the runtime is down for) a pod."""

    def __init__(self, down: bool = False) -> None:
        self.down = down
        self.asked: list[int] = []

    def pod_container(self, pid: int, cgroup: str) -> PodContainer | None:
        self.asked.append(pid)
        if self.down:
            raise CRIError("--cri-socket: the runtime at /run/containerd/containerd.sock is down")
        return PodContainer("a" * 64, "default/node-exporter")


def test_a_host_network_pod_is_a_pod_but_its_network_needs_the_opt_in(
    journal: Journal, families: dict[str, RecordingFamily], proc: subprocess.Popen[bytes]
) -> None:
    """Kubernetes mode, a pod container in the host's netns (what a hostNetwork pod is): the
    process check passes, the network check still wants the operator's explicit opt-in."""
    pods = _Pods()
    engine = Engine(journal, Registry(families), guard=TargetGuard(pods=pods))  # type: ignore[arg-type]
    try:
        err = _refused(engine, DesiredState(pid=proc.pid, faults=[LOSS]))
        assert err.loc == ("hostNetwork",) and pods.asked == [proc.pid]
        assert engine.targets() == [] and families["network"].calls == []
        engine.put("t1", DesiredState(pid=proc.pid, faults=[LOSS], hostNetwork=True))
        assert families["network"].ops("apply") == [("apply", "t1", ["loss"])]
    finally:
        engine.close()


@contextlib.contextmanager
def _client(engine: Engine) -> Iterator[httpx.Client]:
    """chaosd's app on a real uvicorn, over loopback."""
    app = create_app(engine, AuthConfig("t", False, "the file /state/token"))
    with serve_asgi(app, log_level="warning") as port:
        url = f"http://127.0.0.1:{port}"
        with httpx.Client(base_url=url, headers={"Authorization": "Bearer t"}) as c:
            yield c


def test_a_runtime_that_cannot_answer_means_503_and_nothing_done(
    journal: Journal, families: dict[str, RecordingFamily], proc: subprocess.Popen[bytes]
) -> None:
    guard = TargetGuard(pods=_Pods(down=True))
    engine = Engine(journal, Registry(families), guard=guard)  # type: ignore[arg-type]
    loss = {"kind": "loss", "loss": 5}
    try:
        with _client(engine) as client:
            put = client.put("/targets/t1", json={"pid": proc.pid, "faults": [loss]})
            sig = client.post("/signal", json={"pid": proc.pid, "signal": 15})
            for r in (put, sig):
                assert r.status_code == 503, r.text
                assert "--cri-socket" in r.json()["detail"]
            assert client.get("/targets").json() == []
    finally:
        engine.close()
    assert proc.poll() is None and families["network"].calls == []
