"""chaosd's side of the layer servers: start one, find them, talk to them.

Servers are found by scanning /proc for the marker in their command line, never from memory, so
a restarted chaosd (or `recover` after a crash) sees exactly what is running.
"""

from __future__ import annotations

import contextlib
import json
import os
import select
import signal
import socket
import subprocess
import time
from dataclasses import dataclass
from typing import Any

from chaosd.faults.base import FaultError
from chaosd.faults.io.server import MARKER, server_argv, socket_name

START_TIMEOUT = 30.0
RPC_TIMEOUT = 5.0


class ServerUnreachable(FaultError):
    """A layer server exists but did not answer on its control socket."""


@dataclass(frozen=True)
class ServerProc:
    pid: int
    target_id: str
    target_pid: int
    volume: str


def _cmdline(pid: str) -> list[str]:
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as f:
            raw = f.read()
        with open(f"/proc/{pid}/stat", "rb") as f:
            if f.read().rsplit(b")", 1)[1].split()[0] == b"Z":
                return []  # a zombie serves nothing
    except OSError:
        return []
    return [os.fsdecode(a) for a in raw.split(b"\0") if a]


def find_servers(target_id: str | None = None) -> list[ServerProc]:
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        argv = _cmdline(entry)
        if MARKER not in argv:
            continue
        args = dict(a.split("=", 1) for a in argv[argv.index(MARKER) + 1 :] if "=" in a)
        if not ({"target", "pid", "volume"} <= args.keys() and args["pid"].isdigit()):
            continue
        if target_id is None or args["target"] == target_id:
            found.append(ServerProc(int(entry), args["target"], int(args["pid"]), args["volume"]))
    return found


def rpc(server_pid: int, request: dict[str, Any], timeout: float = RPC_TIMEOUT) -> dict[str, Any]:
    try:
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
            s.settimeout(timeout)
            s.connect(socket_name(server_pid))
            s.sendall(json.dumps(request).encode() + b"\n")
            data = b""
            while not data.endswith(b"\n"):
                chunk = s.recv(65536)
                if not chunk:
                    break
                data += chunk
    except OSError as e:
        raise ServerUnreachable(f"IO layer server {server_pid}: {e}") from e
    if not data:
        raise ServerUnreachable(f"IO layer server {server_pid}: closed without an answer")
    reply: dict[str, Any] = json.loads(data)
    return reply


def status(server_pid: int) -> dict[str, Any] | None:
    """The server's status, or None when it does not answer."""
    try:
        reply = rpc(server_pid, {"op": "status"})
    except ServerUnreachable:
        return None
    return reply if reply.get("ok") else None


def start_server(
    target_id: str, pid: int, volume: str, request: dict[str, Any], *, log: str | None = None
) -> int:
    """Start a layer server; returns its pid once the layer is mounted."""
    if log:
        request = {**request, "log": log}
    proc = subprocess.Popen(
        server_argv(target_id, pid, volume),
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
        start_new_session=True, close_fds=True,
    )  # fmt: skip
    assert proc.stdin is not None and proc.stdout is not None
    try:
        proc.stdin.write(json.dumps(request).encode() + b"\n")
        proc.stdin.close()
        line = _read_line(proc.stdout.fileno(), START_TIMEOUT)
    finally:
        proc.stdout.close()
        with contextlib.suppress(subprocess.TimeoutExpired):
            proc.wait(timeout=START_TIMEOUT)
    if not line:
        raise FaultError(f"volumePath {volume}: IO layer server exited without reporting")
    reply = json.loads(line)
    if not reply.get("ok"):
        raise FaultError(f"volumePath {volume}: {reply.get('error')}")
    return int(reply["pid"])


def _read_line(fd: int, timeout: float) -> bytes:
    deadline = time.monotonic() + timeout
    data = b""
    while not data.endswith(b"\n"):
        left = deadline - time.monotonic()
        if left <= 0 or not select.select([fd], [], [], left)[0]:
            raise FaultError(f"IO layer server did not start within {timeout:g}s")
        chunk = os.read(fd, 65536)
        if not chunk:
            break
        data += chunk
    return data


def kill(server: ServerProc) -> None:
    """SIGKILL a layer server, after checking its pid was not reused by something else."""
    argv = _cmdline(str(server.pid))
    if MARKER in argv and f"target={server.target_id}" in argv:
        with contextlib.suppress(ProcessLookupError):
            os.kill(server.pid, signal.SIGKILL)


def abort_connection(device: str) -> None:
    """Fail every pending and future request of a FUSE connection (its server is hung)."""
    minor = device.split(":")[-1]
    with contextlib.suppress(OSError), open(f"/sys/fs/fuse/connections/{minor}/abort", "w") as f:
        f.write("1")
