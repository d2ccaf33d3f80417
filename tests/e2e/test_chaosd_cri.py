"""chaosd finds containers through the real CRI of the dev cluster's containerd (issue 9).

One demo pod is started; its container's PID is asked of containerd over gRPC (runtime.v1
ContainerStatus, verbose) and checked against the kernel: the process lives in the container's
cgroup and in a network namespace other than the host's. A real `chaosd serve` then answers the
operator's resolve call through the same socket, and refuses to start on a missing socket with
an error naming the option and the path. In Kubernetes mode (issue 13) the same CRI decides what
chaosd may act on: the pod's process yes, a host process or a node agent never.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING

import httpx
import pytest
from localimages import catalog

from chaosd.cri import ContainerNotFound, cgroup_mentions, normalise_container_id
from chaosd.cri_grpc import CRIClient, CRIError, find_socket, missing_socket_message
from tests.support.net import free_port, wait_http
from tests.support.pods import nft_tables, start_demo_pod

if TYPE_CHECKING:
    from tests.support.cluster import Cluster

pytestmark = [pytest.mark.cluster, pytest.mark.timeout(300)]
CHAOSD = Path(sys.executable).parent / "chaosd"


@pytest.fixture
def container_id(cluster: Cluster, namespace: str) -> str:
    assert cluster.local, "the test talks to the dev cluster's containerd socket"
    catalog.ensure_imported(cluster.settings.containerd_socket, ["pause", "demo-http"])
    web = start_demo_pod(cluster, namespace, "web", "web")
    return str(web["status"]["containerStatuses"][0]["containerID"])


def test_cri_reports_the_container_main_pid(cluster: Cluster, container_id: str) -> None:
    client = CRIClient(Path(cluster.settings.containerd_socket))
    try:
        version = client.version()
        found = client.main_pid(container_id)
        with pytest.raises(ContainerNotFound, match="no container"):
            client.main_pid("containerd://" + "0" * 64)
    finally:
        client.close()
    assert (version.name, version.api_version) == ("containerd", "v1")
    cid = normalise_container_id(container_id)
    assert found.container_id == cid
    # The kernel agrees: the PID is in the container's cgroup and has its own network namespace.
    assert cgroup_mentions(Path(f"/proc/{found.pid}/cgroup").read_text(), cid)
    assert os.stat(f"/proc/{found.pid}/ns/net").st_ino != os.stat("/proc/self/ns/net").st_ino


def test_chaosd_serve_resolves_through_the_cri(
    cluster: Cluster, container_id: str, tmp_path: Path
) -> None:
    socket = str(cluster.settings.containerd_socket)
    (tmp_path / "token").write_text("t0ken")
    port = free_port()
    cmd = [str(CHAOSD), "serve", "--listen", f"127.0.0.1:{port}", "--state-dir", str(tmp_path)]
    cmd += ["--token-file", str(tmp_path / "token"), "--cri-socket", socket]
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait_http(f"http://127.0.0.1:{port}/healthz", proc, "chaosd")
        resp = httpx.get(
            f"http://127.0.0.1:{port}/containers/resolve",
            params={"containerID": container_id},
            headers={"Authorization": "Bearer t0ken"},
        )
    finally:
        proc.terminate()
        proc.wait(timeout=30)
    assert resp.status_code == 200, resp.text
    body = resp.json()
    assert body["via"] == f"cri:{socket}"
    cid = normalise_container_id(container_id)
    assert cgroup_mentions(Path(f"/proc/{body['pid']}/cgroup").read_text(), cid)


def _start_time(pid: int) -> str:
    """Field 22 of /proc/<pid>/stat: the same value means the same, still running, process."""
    return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[19]


def test_kubernetes_mode_acts_on_pod_containers_only(
    cluster: Cluster, container_id: str, tmp_path: Path
) -> None:
    """chaosd in Kubernetes mode (as the chart runs it) with the node's real CRI: a host process
    outside any pod is refused, for faults and signals alike, even with the hostNetwork opt-in,
    and is not signalled; node agents are refused; the pod's own process is served."""
    socket = str(cluster.settings.containerd_socket)
    (tmp_path / "token").write_text("t0ken")
    port = free_port()
    state = ["--state-dir", str(tmp_path / "state")]
    cmd = [str(CHAOSD), "serve", "--listen", f"127.0.0.1:{port}", *state, "--kubernetes"]
    cmd += ["--token-file", str(tmp_path / "token"), "--cri-socket", socket]
    host_proc = subprocess.Popen(["sleep", "300"])
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    loss = {"kind": "loss", "loss": 100, "peers": [{"cidr": "198.51.100.79/32"}]}
    auth = {"Authorization": "Bearer t0ken"}
    try:
        wait_http(f"http://127.0.0.1:{port}/healthz", proc, "chaosd")
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", headers=auth, timeout=60) as c:
            found = c.get("/containers/resolve", params={"containerID": container_id})
            pod_pid = found.json()["pid"]
            body = {"pid": host_proc.pid, "faults": [loss], "hostNetwork": True}
            refused = [
                c.put("/targets/host-sleep", json=body),
                c.post("/signal", json={"pid": host_proc.pid, "signal": 15}),
            ]
            for r in refused:
                assert r.status_code == 422, r.text
                (detail,) = r.json()["detail"]
                assert detail["loc"] == ["body", "pid"]
                assert "not in a running pod container on this node" in detail["msg"]
            time.sleep(0.5)  # a SIGTERM that had been sent would have ended sleep by now
            assert host_proc.poll() is None  # nothing was signalled
            assert "inet faultline" not in nft_tables(host_proc.pid)
            # Node agents: SIGCONT, harmless should the guard ever let it through.
            for agent in ("kubelet", "containerd"):
                pgrep = subprocess.run(["pgrep", "-o", "-x", agent], capture_output=True)
                pid = int(pgrep.stdout.split()[0])
                started = _start_time(pid)
                r = c.post("/signal", json={"pid": pid, "signal": 18})
                assert r.status_code == 422, r.text
                assert f"is {agent}, a node agent" in r.json()["detail"][0]["msg"]
                assert _start_time(pid) == started
            assert c.get("/targets").json() == []
            # The pod's own process, as the CRI names it, is a target like any other.
            r = c.put("/targets/pod-web", json={"pid": pod_pid, "faults": [loss]})
            assert r.status_code == 200, r.text
            assert "inet faultline" in nft_tables(pod_pid)
            assert c.delete("/targets/pod-web").status_code == 204
            assert "inet faultline" not in nft_tables(pod_pid)
    finally:
        proc.terminate()
        proc.wait(timeout=30)
        subprocess.run([str(CHAOSD), "recover", "--all", *state], capture_output=True, check=False)
        host_proc.kill()
        host_proc.wait()


def test_missing_socket_is_a_clear_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    missing = tmp_path / "nope.sock"
    out = subprocess.run(
        [str(CHAOSD), "serve", "--state-dir", str(tmp_path), "--cri-socket", str(missing)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert out.returncode == 2
    message = " ".join(out.stderr.split())
    assert f"--cri-socket: {missing} is not a unix socket" in message
    assert "chaosd.criSocket.path" in message
    with pytest.raises(CRIError, match="--cri-socket"):
        find_socket(str(missing))
    # Nothing configured and nothing at the well-known paths: no socket, and the message lists
    # every path tried.
    monkeypatch.delenv("CONTAINER_RUNTIME_ENDPOINT", raising=False)
    assert find_socket(None, candidates=[str(missing)]) is None
    text = missing_socket_message([str(missing), "/run/crio/crio.sock"])
    assert str(missing) in text and "/run/crio/crio.sock" in text and "--cri-socket" in text
