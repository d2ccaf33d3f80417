"""A real `chaosd serve` under hostile input: a 150 MB body (with and without a token), an
interface name carrying nft syntax, NaN, and a network fault aimed at the host's own network.
Each refusal is checked on the wire and in the kernel: nothing was buffered (RSS), nothing was
applied (nft, tc) and nothing was journaled.
"""

from __future__ import annotations

import socket
import subprocess
import threading
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from engine_lab import CHAOSD, Daemon, Pod, inspect

pytestmark = pytest.mark.privileged

HUGE = 150 * 1024 * 1024
CHUNK = b"x" * (1024 * 1024)
INJECTION = 'eth0" drop\nflush ruleset'


def _memory_kib(pid: int) -> dict[str, int]:
    """VmRSS (now) and VmHWM (the peak so far) from /proc/<pid>/status, in KiB."""
    fields = {}
    with open(f"/proc/{pid}/status") as status:
        lines = status.read().splitlines()
    for line in lines:
        key, _, value = line.partition(":")
        if key in ("VmRSS", "VmHWM"):
            fields[key] = int(value.split()[0])
    return fields


def _push(port: int, head: list[str], chunked: bool) -> tuple[int, int, str]:
    """Send a request head, then up to 150 MB of body while reading the answer on another
    thread. Returns (status, body bytes the kernel accepted before chaosd hung up, answer)."""
    sock = socket.create_connection(("127.0.0.1", port))
    answer = bytearray()

    def read() -> None:
        try:
            while chunk := sock.recv(65536):
                answer.extend(chunk)
        except OSError:
            pass  # reset after the answer: the answer already read is what counts

    reader = threading.Thread(target=read)
    reader.start()
    framing = "Transfer-Encoding: chunked" if chunked else f"Content-Length: {HUGE}"
    sent = 0
    try:
        sock.sendall(("\r\n".join([*head, framing]) + "\r\n\r\n").encode())
        while sent < HUGE:
            piece = CHUNK if not chunked else b"%x\r\n%s\r\n" % (len(CHUNK), CHUNK)
            sock.sendall(piece)
            sent += len(CHUNK)
    except OSError:
        pass  # chaosd closed the connection: the rest of the body is never read
    reader.join()
    sock.close()
    head_line = bytes(answer).split(b"\r\n", 1)[0].decode()
    return int(head_line.split()[1]), sent, bytes(answer).decode(errors="replace")


@pytest.fixture
def started(daemon: Daemon) -> Iterator[Daemon]:
    daemon.start()
    yield daemon


@pytest.mark.parametrize("chunked", [False, True], ids=["content-length", "chunked"])
@pytest.mark.parametrize("token", [False, True], ids=["no-token", "token"])
def test_a_150mb_body_is_refused_without_being_buffered(
    started: Daemon, pods: list[Pod], chunked: bool, token: bool
) -> None:
    assert started.proc is not None
    pid = started.proc.pid
    a, _ = pods
    head = [f"PUT /targets/{a.id} HTTP/1.1", "Host: chaosd", "Content-Type: application/json"]
    if token:
        head.append(f"Authorization: {started.headers['Authorization']}")
    before = _memory_kib(pid)
    status, sent, answer = _push(started.port, head, chunked)
    after = _memory_kib(pid)
    grew_mib = (after["VmHWM"] - before["VmRSS"]) / 1024
    print(
        f"\nchaosd pid {pid}, {'authenticated' if token else 'unauthenticated'} 150 MB "
        f"{'chunked' if chunked else 'Content-Length'} request -> {status}; client pushed "
        f"{sent / 2**20:.1f} MiB before the hang-up; VmRSS {before['VmRSS'] / 1024:.1f} -> "
        f"{after['VmRSS'] / 1024:.1f} MiB, peak (VmHWM) {after['VmHWM'] / 1024:.1f} MiB, "
        f"growth to peak {grew_mib:.1f} MiB"
    )
    assert status == (413 if token else 401), answer
    assert grew_mib < 20
    assert sent < HUGE  # chaosd hung up instead of draining the body
    with started.client() as c:
        assert c.get("/targets").json() == []
    assert inspect(a)["nft_table"] is False


@pytest.mark.parametrize(
    "fault",
    [
        {"kind": "loss", "loss": 20, "device": INJECTION},
        {"kind": "delay", "latency": "10ms", "device": INJECTION},
        {"kind": "bandwidth", "rate": "1mbit", "device": INJECTION},
    ],
    ids=lambda f: f["kind"],
)
def test_an_interface_name_with_nft_syntax_is_refused_and_nothing_applied(
    started: Daemon, pods: list[Pod], fault: dict[str, Any]
) -> None:
    a, _ = pods
    with started.client() as c:
        r = c.put(f"/targets/{a.id}", json={"pid": a.pid, "faults": [fault]})
        assert r.status_code == 422, r.text
        (detail,) = r.json()["detail"]
        assert detail["loc"] == ["body", "faults", 0, fault["kind"], "device"]
        assert "is not an interface name" in detail["msg"]
        assert c.get("/targets").json() == []
    held = inspect(a)
    assert held["nft_table"] is False and held["qdiscs"] == [] and held["delayers"] == []
    state = ["--state-dir", str(started.state_dir)]
    out = subprocess.run([*CHAOSD, "status", *state], capture_output=True, text=True, check=True)
    assert a.id not in out.stdout  # the journal never heard of it


def test_nan_is_422_naming_the_field(started: Daemon, pods: list[Pod]) -> None:
    a, _ = pods
    body = f'{{"pid": {a.pid}, "faults": [{{"kind": "loss", "loss": NaN}}]}}'
    with started.client() as c:
        r = c.put(f"/targets/{a.id}", content=body, headers={"Content-Type": "application/json"})
    assert r.status_code == 422, r.text
    assert r.json()["detail"][0]["loc"] == ["body", "faults", 0, "loss", "loss"]
    assert inspect(a)["nft_table"] is False


def _host_tables() -> str:
    return subprocess.run(["nft", "list", "tables"], capture_output=True, text=True).stdout


def test_the_hosts_own_network_needs_the_opt_in(started: Daemon, pods: list[Pod]) -> None:
    """A process in the host's network namespace (as a hostNetwork pod is): refused, named."""
    host_proc = subprocess.Popen(["sleep", "300"])
    try:
        loss = {"kind": "loss", "loss": 20, "peers": [{"cidr": "198.51.100.77/32"}]}
        body = {"pid": host_proc.pid, "faults": [loss]}
        with started.client() as c:
            r = c.put("/targets/host-proc", json=body)
            assert r.status_code == 422, r.text
            (detail,) = r.json()["detail"]
            assert detail["loc"] == ["body", "hostNetwork"]
            assert "shares the host's network namespace" in detail["msg"]
            assert c.get("/targets").json() == []
        assert "inet faultline" not in _host_tables()
        # The standalone CLI holds the same line, and says how to cross it.
        out = subprocess.run(
            [*CHAOSD, "attack", "network", "loss", "--pid", str(host_proc.pid), "--percent", "5",
             "--peer", "198.51.100.77/32", "--state-dir", str(started.state_dir)],
            capture_output=True, text=True, timeout=120,
        )  # fmt: skip
        assert out.returncode == 2, out.stdout + out.stderr
        assert "--host-network" in " ".join(out.stderr.split())
        assert "inet faultline" not in _host_tables()
    finally:
        host_proc.kill()
        host_proc.wait()


def test_with_the_opt_in_the_hosts_own_network_is_faulted_then_recovered(
    started: Daemon,
) -> None:
    """What the operator sends for a hostNetwork pod whose object is annotated
    chaos.faultline.dev/allow-host-network: the fault acts (on one TEST-NET address only)."""
    host_proc = subprocess.Popen(["sleep", "300"])
    loss = {"kind": "loss", "loss": 100, "peers": [{"cidr": "198.51.100.78/32"}]}
    body = {"pid": host_proc.pid, "faults": [loss], "hostNetwork": True}
    try:
        with started.client() as c:
            r = c.put("/targets/host-proc-opted-in", json=body)
            assert r.status_code == 200, r.text
            table = ["nft", "list", "table", "inet", "faultline"]
            held = subprocess.run(table, capture_output=True, text=True).stdout
            assert "198.51.100.78" in held  # the host's table, holding this peer's rule
            assert c.delete("/targets/host-proc-opted-in").status_code == 204
        assert "inet faultline" not in _host_tables()
    finally:
        host_proc.kill()
        host_proc.wait()


def test_a_pod_in_its_own_netns_needs_no_opt_in(started: Daemon, pods: list[Pod]) -> None:
    a, _ = pods
    with started.client() as c:
        r = c.put(f"/targets/{a.id}", json={"pid": a.pid, "faults": [{"kind": "loss", "loss": 5}]})
        assert r.status_code == 200, r.text
        assert inspect(a)["nft_table"] is True
        assert c.delete(f"/targets/{a.id}").status_code == 204
    assert inspect(a)["nft_table"] is False


def test_healthz_is_open_and_everything_else_is_not(started: Daemon) -> None:
    assert httpx.get(f"{started.url}/healthz").status_code == 200
    for path in ("/targets", "/metrics", "/containers/resolve?containerID=abc"):
        assert httpx.get(f"{started.url}{path}").status_code == 401, path
