"""The per-(target, volume) process that owns one IO fault layer.

Run as `python -m chaosd.faults.io.server faultline-iofs target=<id> pid=<pid> volume=<path>`
with the first config as a JSON line on stdin; it answers one JSON line on stdout once the layer
is mounted (or says why not), then detaches from its parent and keeps serving even if chaosd
dies. The marker and `target=` in its command line are how recovery finds it.

It serves as long as its mount namespace has a workload: when the process it watches exits, it
watches another process of that namespace (a container's other processes), and stops only when
none is left but Faultline's helpers (chaosd/namespaces.py).

Order matters: every module is imported and /dev/fuse, the target's pidfd and the control
socket are opened while still in the daemon's mount namespace and single-threaded; only then
does it setns(2) into the target's mount namespace (where the daemon's files may not exist),
open the covered directory and mount over it. trio (and any thread) starts after that.
"""

from __future__ import annotations

import contextlib
import errno
import json
import os
import signal
import socket
import struct
import sys
from typing import Any

import pyfuse3
import trio

from chaosd import namespaces
from chaosd.faults.io import mounts
from chaosd.faults.io.inject import Injector
from chaosd.faults.io.layer import Layer
from chaosd.faults.io.rules import IORule

MARKER = "faultline-iofs"
DEFAULT_DRAIN_SECONDS = 600.0


def socket_name(server_pid: int) -> str:
    """Abstract unix socket (no file to leak), unique per server process."""
    return f"\0{MARKER}/{server_pid}"


def server_argv(target_id: str, pid: int, volume: str) -> list[str]:
    return [
        sys.executable, "-m", "chaosd.faults.io.server", MARKER,
        f"target={target_id}", f"pid={pid}", f"volume={volume}",
    ]  # fmt: skip


class Server:
    def __init__(self, target_id: str, pid: int, volume: str, rules: list[IORule]) -> None:
        self.target_id, self.pid, self.volume = target_id, pid, volume
        self.state = "starting"
        self.pidfd = os.pidfd_open(pid)
        # The node's /proc, kept across setns: inside the target, /proc is the target's own.
        self.proc_fd = os.open("/proc", os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
        self.listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM | socket.SOCK_CLOEXEC)
        self.listener.bind(socket_name(os.getpid()))
        self.listener.listen(16)
        self._check_propagation()
        fuse_fd = os.open("/dev/fuse", os.O_RDWR | os.O_CLOEXEC)
        mounts.enter_mount_ns(pid)
        os.chdir("/")
        root_fd = os.open(volume, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
        mounts.mount_fuse(fuse_fd, volume, target_id, os.fstat(root_fd).st_mode)
        try:
            self.layer = Layer(root_fd, Injector(rules))
            pyfuse3.init(self.layer, f"/dev/fd/{fuse_fd}", set())
        except BaseException:
            mounts.detach(volume)
            raise
        self.state = "active"
        self.drain_seconds = DEFAULT_DRAIN_SECONDS

    def _check_propagation(self) -> None:
        entries = mounts.read_mounts(self.pid)
        if mounts.faultline_mounts(
            [e for e in entries if e.mount_point == self.volume], self.target_id
        ):
            raise RuntimeError(f"volumePath {self.volume}: a Faultline layer is already mounted")
        under = mounts.covering_mount(entries, self.volume)
        if under is not None and under.shared:
            raise RuntimeError(
                f"volumePath {self.volume}: lies on a shared mount ({under.mount_point}), so a "
                "layer there would propagate into other mount namespaces (e.g. the host's); "
                "IO faults need private or slave propagation (Kubernetes mountPropagation "
                "None or HostToContainer)"
            )

    async def serve(self) -> None:
        async with trio.open_nursery() as nursery:
            self._nursery = nursery
            nursery.start_soon(self._run_fuse)
            nursery.start_soon(self._control, nursery)
            nursery.start_soon(self._watch_target)
            nursery.start_soon(self._watch_signals)

    async def _run_fuse(self) -> None:
        try:
            # Returns once the kernel drops the connection: after a lazy unmount that is when
            # the last file still open through the layer is closed.
            await pyfuse3.main()
        finally:
            self._nursery.cancel_scope.cancel()

    async def _watch_target(self) -> None:
        while self.pidfd >= 0:
            await trio.lowlevel.wait_readable(self.pidfd)
            os.close(self.pidfd)
            self.pidfd = -1
            while (successor := self._workload_member()) is not None:
                with contextlib.suppress(ProcessLookupError):  # it exited meanwhile: look again
                    self.pidfd = os.pidfd_open(successor)
                    break
        await self._stop()  # no workload left in the namespace: nothing to inject into

    def _workload_member(self) -> int | None:
        me = os.getpid()
        ino = namespaces.inode(me, "mnt", self.proc_fd)
        found = None
        if ino is not None:
            found = namespaces.find("mnt", ino, proc_fd=self.proc_fd, exclude=me)
        return found.pid if found is not None and not found.helper else None

    async def _watch_signals(self) -> None:
        with trio.open_signal_receiver(signal.SIGTERM, signal.SIGINT) as signals:
            async for _ in signals:
                await self._stop()

    async def _stop(self) -> None:
        await self._detach()
        self._nursery.cancel_scope.cancel()

    async def _detach(self) -> bool:
        self.layer.injector = Injector([])
        if self.state == "draining":
            return False
        self.state = "draining"
        try:
            await trio.to_thread.run_sync(mounts.detach, self.volume)
        except OSError as e:
            if e.errno not in (errno.EINVAL, errno.ENOENT):
                raise
            return False
        return True

    async def _drain_deadline(self, seconds: float) -> None:
        await trio.sleep(seconds)
        self._nursery.cancel_scope.cancel()

    async def _control(self, nursery: trio.Nursery) -> None:
        listener = trio.socket.from_stdlib_socket(self.listener)
        while True:
            conn, _ = await listener.accept()
            nursery.start_soon(self._client, conn)

    async def _client(self, conn: Any) -> None:
        # A bad client must never take the layer (and the target's volume) down with it.
        with conn:
            try:
                creds = conn.getsockopt(socket.SOL_SOCKET, socket.SO_PEERCRED, 12)
                if struct.unpack("3i", creds)[1] != 0:
                    return  # only root may steer a layer
                data = b""
                while not data.endswith(b"\n"):
                    chunk = await conn.recv(65536)
                    if not chunk:
                        return
                    data += chunk
                # Shielded: a release may end the layer at once, but its caller gets an answer.
                with trio.CancelScope(shield=True):
                    try:
                        reply = await self._handle(json.loads(data))
                    except Exception as e:
                        reply = {"ok": False, "error": f"{type(e).__name__}: {e}"}
                    out = json.dumps(reply).encode() + b"\n"
                    while out:
                        out = out[await conn.send(out) :]
            except OSError:
                pass

    async def _handle(self, request: dict[str, Any]) -> dict[str, Any]:
        op = request.get("op")
        if op == "status":
            return {"ok": True, **self.status()}
        if op == "config":
            if self.state != "active":
                return {"ok": False, "error": f"layer is {self.state}, not active"}
            rules = [IORule.from_json(r) for r in request["rules"]]
            changed = tuple(rules) != self.layer.injector.rules
            if changed:
                self.layer.injector = Injector(rules)
                await trio.to_thread.run_sync(self._invalidate)
            return {"ok": True, "changed": changed}
        if op == "release":
            detached = await self._detach()
            if detached:
                seconds = float(request.get("drain_seconds", self.drain_seconds))
                self._nursery.start_soon(self._drain_deadline, seconds)
            return {"ok": True, "detached": detached}
        if op == "stop":
            self._nursery.start_soon(self._stop)
            return {"ok": True}
        return {"ok": False, "error": f"op: unknown operation {op!r}"}

    def _invalidate(self) -> None:
        # Drop cached pages and attributes so already-open files meet the new rules too.
        for node in list(self.layer.nodes._paths):
            with contextlib.suppress(OSError):
                pyfuse3.invalidate_inode(node, attr_only=False)

    def status(self) -> dict[str, Any]:
        return {
            "state": self.state,
            "target": self.target_id,
            "pid": self.pid,
            "volume": self.volume,
            "rules": [r.to_json() for r in self.layer.injector.rules],
            "open_handles": self.layer.open_handles,
        }


def _args(argv: list[str]) -> dict[str, str]:
    if not argv or argv[0] != MARKER:
        raise SystemExit(f"usage: {MARKER} target=<id> pid=<pid> volume=<path>")
    return dict(a.split("=", 1) for a in argv[1:])


def main(argv: list[str]) -> int:
    args = _args(argv)
    request = json.loads(sys.stdin.readline())
    if os.fork():
        os._exit(0)  # the parent returns at once; init reaps us, nobody has to wait for us
    os.umask(0)  # the kernel already applied the caller's umask to every mode we receive
    log = request.get("log")
    # Opened before setns: after it, paths resolve inside the target, which may have no /dev.
    null_fd = os.open("/dev/null", os.O_RDWR | os.O_CLOEXEC)
    log_fd = os.open(log, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600) if log else null_fd
    try:
        rules = [IORule.from_json(r) for r in request.get("rules", [])]
        server = Server(args["target"], int(args["pid"]), args["volume"], rules)
        server.drain_seconds = float(request.get("drain_seconds", DEFAULT_DRAIN_SECONDS))
    except Exception as e:
        print(json.dumps({"ok": False, "error": str(e)}), flush=True)
        return 1
    print(json.dumps({"ok": True, "pid": os.getpid()}), flush=True)
    _quiet_stdio(null_fd, log_fd)
    try:
        trio.run(server.serve)
    finally:
        if server.state != "draining":
            with contextlib.suppress(OSError):
                mounts.detach(server.volume)
        pyfuse3.close(unmount=False)
    return 0


def _quiet_stdio(null_fd: int, log_fd: int) -> None:
    """The daemon may be gone long before us; never write into its pipes."""
    os.dup2(null_fd, 0)
    os.dup2(null_fd, 1)
    os.dup2(log_fd, 2)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
