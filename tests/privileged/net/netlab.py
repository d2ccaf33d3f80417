"""A two-pod network lab for network-fault tests and benchmarks.

Each "pod" is a `sleep` process in its own fresh netns (`unshare --net`), so the namespace dies
with the process and nothing can outlive the lab. The pods are joined by a veth pair created
from inside pod A; the host's own netns is never touched. Measurement helpers use sockets opened
inside the pods (chaosd.nsexec.open_socket) and count what actually arrives.
"""

from __future__ import annotations

import contextlib
import os
import re
import secrets
import select
import signal
import socket
import statistics
import subprocess
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass

from chaosd import nsexec
from chaosd.faults.base import TargetRef
from chaosd.faults.network import delayers, family


@dataclass
class Pod:
    proc: subprocess.Popen[bytes]
    target: TargetRef
    ip: str

    @property
    def pid(self) -> int:
        return self.proc.pid


def start_pod(target_id: str) -> subprocess.Popen[bytes]:
    proc = subprocess.Popen(["unshare", "--net", "--", "sleep", "infinity"])
    host_net = os.stat("/proc/self/ns/net").st_ino
    # unshare execs sleep only after the new netns exists; wait until the pid is inside it.
    while True:
        with contextlib.suppress(FileNotFoundError):
            if os.stat(f"/proc/{proc.pid}/ns/net").st_ino != host_net:
                return proc
        if proc.poll() is not None:
            raise RuntimeError(f"pod {target_id}: unshare exited with {proc.returncode}")
        time.sleep(0.005)


def stop_pod(pod: Pod) -> None:
    """Recover, then kill the pod; also stops any delayer still tagged with its id."""
    try:
        family.recover(pod.target)
    finally:
        delayers.stop([d.pid for d in delayers.find(pod.target.id)])
        pod.proc.send_signal(signal.SIGKILL)
        pod.proc.wait()


@contextlib.contextmanager
def pod_pair() -> Iterator[tuple[Pod, Pod]]:
    """Pods A (10.x.y.1) and B (10.x.y.2) on one veth link; always torn down."""
    tag = secrets.token_hex(4)
    net = f"10.{secrets.randbelow(200) + 20}.{secrets.randbelow(250) + 1}"
    pods: list[Pod] = []
    try:
        for i, name in enumerate("ab"):
            tid = f"netlab-{tag}-{name}"
            pods.append(Pod(start_pod(tid), TargetRef(tid, 0), f"{net}.{i + 1}"))
            pods[-1].target = TargetRef(tid, pods[-1].pid)
        a, b = pods
        nsexec.run(a.pid, ["ip", "link", "add", "eth0", "type", "veth", "peer", "name", "eth0",
                           "netns", str(b.pid)])  # fmt: skip
        for pod in pods:
            nsexec.run(pod.pid, ["ip", "addr", "add", f"{pod.ip}/24", "dev", "eth0"])
            nsexec.run(pod.pid, ["ip", "link", "set", "eth0", "up"])
            nsexec.run(pod.pid, ["ip", "link", "set", "lo", "up"])
        yield a, b
    finally:
        for pod in pods:
            stop_pod(pod)


def udp_delivery(
    src: Pod, dst: Pod, count: int, rate: float = 4000.0, port: int | None = None
) -> int:
    """Send `count` numbered datagrams src -> dst at about `rate`/s; return how many arrived."""
    port = port or 20000 + secrets.randbelow(20000)
    rx = nsexec.open_socket(dst.pid, socket.AF_INET, socket.SOCK_DGRAM)
    tx = nsexec.open_socket(src.pid, socket.AF_INET, socket.SOCK_DGRAM)
    with rx, tx:
        rx.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 8 * 1024 * 1024)
        rx.bind((dst.ip, port))
        seen: set[int] = set()
        done = threading.Event()

        def receive() -> None:
            # Stop once the sender is done and the link has been quiet for a while.
            while True:
                ready, _, _ = select.select([rx], [], [], 1.0)
                if ready:
                    seen.add(int(rx.recv(64)))
                elif done.is_set():
                    return

        reader = threading.Thread(target=receive)
        reader.start()
        start = time.monotonic()
        for i in range(count):
            # A drop in the sender's own OUTPUT hook shows up as EPERM; it still counts as sent.
            with contextlib.suppress(PermissionError):
                tx.sendto(b"%d" % i, (dst.ip, port))
            # Paced, so neither the receive buffer nor a delayer's queue overflows.
            ahead = start + (i + 1) / rate - time.monotonic()
            if ahead > 0:
                time.sleep(ahead)
        done.set()
        reader.join()
    return len(seen)


def ping_rtts(src: Pod, dst: Pod, count: int, interval: float = 0.02) -> list[float]:
    """Round-trip times in ms of `count` pings src -> dst (lost ones are simply missing)."""
    out = nsexec.run(
        src.pid, ["ping", "-n", "-c", str(count), "-i", str(interval), "-W", "5", dst.ip],
        check=False,
    ).stdout  # fmt: skip
    return [float(m) for m in re.findall(r"time=([\d.]+) ms", out)]


def tcp_throughput(src: Pod, dst: Pod, seconds: float = 5.0, skip: float = 1.0) -> float:
    """Bytes per second src -> dst over a TCP stream, ignoring the first `skip` seconds
    (the token bucket's initial burst)."""
    port = 20000 + secrets.randbelow(20000)
    listener = nsexec.open_socket(dst.pid, socket.AF_INET, socket.SOCK_STREAM)
    tx = nsexec.open_socket(src.pid, socket.AF_INET, socket.SOCK_STREAM)
    with listener, tx:
        listener.bind((dst.ip, port))
        listener.listen(1)
        tx.connect((dst.ip, port))
        conn, _ = listener.accept()
        stop = threading.Event()

        def send() -> None:
            chunk = b"x" * 16384
            with contextlib.suppress(OSError):
                while not stop.is_set():
                    tx.send(chunk)

        sender = threading.Thread(target=send)
        sender.start()
        with conn:
            begin = time.monotonic()
            counted, t0 = 0, None
            while (now := time.monotonic()) - begin < seconds:
                data = conn.recv(65536)
                if t0 is None and now - begin >= skip:
                    t0 = now
                elif t0 is not None:
                    counted += len(data)
            stop.set()
            tx.shutdown(socket.SHUT_RDWR)
        sender.join()
    assert t0 is not None
    return counted / (time.monotonic() - t0)


def spread(values: list[float]) -> float:
    """Inter-quartile range: robust against the odd scheduling hiccup on a busy node."""
    q = statistics.quantiles(values, n=4)
    return q[2] - q[0]
