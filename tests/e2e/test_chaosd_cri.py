"""chaosd finds containers through the real CRI of the dev cluster's containerd (issue 9).

One demo pod is started; its container's PID is asked of containerd over gRPC (runtime.v1
ContainerStatus, verbose) and checked against the kernel: the process lives in the container's
cgroup and in a network namespace other than the host's. A real `chaosd serve` then answers the
operator's resolve call through the same socket, and refuses to start on a missing socket with
an error naming the option and the path.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import TYPE_CHECKING

import httpx
import pytest
from localimages import catalog

from chaosd.cri import ContainerNotFound, cgroup_mentions, normalise_container_id
from chaosd.cri_grpc import CRIClient, CRIError, find_socket, missing_socket_message
from tests.e2e.chaos_helpers import pod
from tests.e2e.operator_fixtures import free_port, wait_http

if TYPE_CHECKING:
    from tests.e2e.conftest import Cluster

pytestmark = [pytest.mark.cluster, pytest.mark.timeout(300)]
CHAOSD = Path(sys.executable).parent / "chaosd"


@pytest.fixture
def container_id(cluster: Cluster, namespace: str) -> str:
    assert cluster.local, "the test talks to the dev cluster's containerd socket"
    catalog.ensure_imported(cluster.settings.containerd_socket, ["pause", "demo-http"])
    cluster.kubectl("apply", "-n", namespace, "-f", "-", stdin=json.dumps(pod("web", "web")))
    cluster.kubectl("wait", "-n", namespace, "--for=condition=Ready", "pod/web", "--timeout=120s")
    status = json.loads(cluster.kubectl("get", "-n", namespace, "pod/web", "-o", "json"))
    return str(status["status"]["containerStatuses"][0]["containerID"])


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
