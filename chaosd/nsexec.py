"""The one place where chaosd enters a target's namespaces.

A target is addressed by a process inside it (`/proc/<pid>/ns/{net,mnt}`). The daemon's own
threads never switch namespace: commands run through `nsenter`, Python callables run in a forked
child that calls setns(2) before doing its work, and sockets are created in such a child and handed
back over a Unix socket (a socket stays bound to the netns it was created in).
"""

from __future__ import annotations

import ctypes
import os
import pickle
import signal
import socket
import subprocess
import traceback
from collections.abc import Callable, Sequence
from typing import Any, Literal, TypeVar

from chaosd.faults.base import FaultError, TargetGone

Namespace = Literal["net", "mnt"]
_CLONE_FLAGS: dict[str, int] = {"net": 0x40000000, "mnt": 0x00020000}
_CLONE_FS = 0x00000200
_libc = ctypes.CDLL(None, use_errno=True)
T = TypeVar("T")


class NamespaceError(FaultError):
    """Entering a namespace or running something inside it failed."""


def ns_path(pid: int, ns: Namespace) -> str:
    """Path of a namespace of `pid`; raises TargetGone when the process no longer exists."""
    path = f"/proc/{pid}/ns/{ns}"
    if not os.path.exists(path):
        raise TargetGone(f"pid {pid}: process is gone (no {path})")
    return path


def ns_inode(pid: int, ns: Namespace = "net") -> int:
    """Identity of a namespace: two processes share it when the inodes are equal."""
    try:
        return os.stat(ns_path(pid, ns)).st_ino
    except FileNotFoundError as e:
        raise TargetGone(f"pid {pid}: process is gone") from e


def nsenter_argv(pid: int, argv: Sequence[str], namespaces: Sequence[Namespace]) -> list[str]:
    flags = [f"--{'mount' if ns == 'mnt' else ns}={ns_path(pid, ns)}" for ns in namespaces]
    return ["nsenter", *flags, "--", *argv]


def run(
    pid: int,
    argv: Sequence[str],
    *,
    namespaces: Sequence[Namespace] = ("net",),
    input: str | None = None,
    check: bool = True,
) -> subprocess.CompletedProcess[str]:
    """Run a command inside the target's namespaces and capture its output.

    With check=True a non-zero exit raises NamespaceError carrying the command's stderr, or
    TargetGone when the target vanished meanwhile.
    """
    cmd = nsenter_argv(pid, argv, namespaces)
    proc = subprocess.run(cmd, input=input, capture_output=True, text=True, check=False)
    if check and proc.returncode != 0:
        if not os.path.exists(f"/proc/{pid}"):
            raise TargetGone(f"pid {pid}: process is gone")
        raise NamespaceError(
            f"{' '.join(argv)!s} in pid {pid}: exit {proc.returncode}: {proc.stderr.strip()}"
        )
    return proc


def spawn(
    pid: int, argv: Sequence[str], *, namespaces: Sequence[Namespace] = ("net",), **popen: Any
) -> subprocess.Popen[bytes]:
    """Start a long-lived helper process inside the target's namespaces.

    nsenter execs the helper (no extra fork), so the helper's own command line, including any
    marker it carries, is what /proc/<pid>/cmdline shows. It gets its own session so a signal to
    the daemon's process group does not reach it; `recover` finds and stops it by its marker.
    """
    return subprocess.Popen(nsenter_argv(pid, argv, namespaces), start_new_session=True, **popen)


def run_in_scratch_netns(argv: Sequence[str]) -> subprocess.CompletedProcess[str]:
    """Run a command in a brand-new, empty netns that disappears when the command exits.

    Used to probe kernel features (e.g. whether sch_netem exists) without touching any real
    namespace.
    """
    return subprocess.run(
        ["unshare", "--net", "--", *argv], capture_output=True, text=True, check=False
    )


def _setns(pid: int, namespaces: Sequence[Namespace]) -> None:
    if "mnt" in namespaces and _libc.unshare(_CLONE_FS) != 0:
        raise OSError(ctypes.get_errno(), "unshare(CLONE_FS) failed")
    for ns in namespaces:
        fd = os.open(ns_path(pid, ns), os.O_RDONLY)
        try:
            if _libc.setns(fd, _CLONE_FLAGS[ns]) != 0:
                err = ctypes.get_errno()
                raise OSError(err, f"setns({ns}) into pid {pid}: {os.strerror(err)}")
        finally:
            os.close(fd)


def call(
    pid: int, fn: Callable[..., T], *args: Any, namespaces: Sequence[Namespace] = ("net",)
) -> T:
    """Run `fn(*args)` in a forked child that has entered the target's namespaces.

    The result (or the exception) travels back pickled. Keep `fn` short-lived and self-contained:
    the child is a copy of the caller, exits with os._exit and never runs the caller's cleanup.
    """
    ns_path(pid, namespaces[0])  # fail early with TargetGone
    rfd, wfd = os.pipe()
    parent = os.getpid()
    child = os.fork()
    if child == 0:  # pragma: no cover - runs in the child
        # The child is a copy of chaosd: whatever happens (the parent killed, the pipe broken),
        # it must never fall back into the caller's code, and it dies with its parent so a
        # killed chaosd leaves no helper finishing a kernel change after the restart reconciled.
        code = 1
        try:
            _die_with_parent(parent)
            os.close(rfd)
            try:
                _setns(pid, namespaces)
                payload = pickle.dumps((True, fn(*args)))
            except BaseException as e:
                payload = pickle.dumps((False, (repr(e), traceback.format_exc(), _picklable(e))))
            with os.fdopen(wfd, "wb") as out:
                out.write(payload)
            code = 0
        finally:
            os._exit(code)
    os.close(wfd)
    with os.fdopen(rfd, "rb") as inp:
        data = inp.read()
    os.waitpid(child, 0)
    if not data:
        raise NamespaceError(f"pid {pid}: helper child died without an answer")
    ok, value = pickle.loads(data)
    if ok:
        return value  # type: ignore[no-any-return]
    text, tb, exc = value
    if isinstance(exc, BaseException):
        raise exc
    raise NamespaceError(f"pid {pid}: {text}\n{tb}")


def _die_with_parent(parent: int) -> None:
    """PR_SET_PDEATHSIG(SIGKILL), and exit now if the parent is already gone."""
    libc = ctypes.CDLL(None, use_errno=True)
    libc.prctl(1, signal.SIGKILL, 0, 0, 0)  # 1 = PR_SET_PDEATHSIG
    if os.getppid() != parent:
        os._exit(1)


def _picklable(e: BaseException) -> BaseException | None:
    try:
        pickle.dumps(e)
        return e
    except Exception:
        return None


def _make_socket(family: int, kind: int, proto: int, sock: socket.socket) -> None:
    s = socket.socket(family, kind, proto)
    socket.send_fds(sock, [b"s"], [s.fileno()])
    s.close()


def open_socket(
    pid: int, family: int = socket.AF_INET, kind: int = socket.SOCK_DGRAM, proto: int = 0
) -> socket.socket:
    """A socket that lives in the target's netns, usable from the caller's own threads."""
    ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_DGRAM)
    with ours, theirs:
        call(pid, _make_socket, family, kind, proto, theirs)
        _, fds, _, _ = socket.recv_fds(ours, 16, 1)
    return socket.socket(family, kind, proto, fileno=fds[0])
