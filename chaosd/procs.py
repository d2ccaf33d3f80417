"""Process identity: a PID alone does not name a process for long, so chaosd pairs it with the
process start time and treats a changed start time as "the target is gone"."""

from __future__ import annotations

import os


def read(rel: str, proc_fd: int | None = None) -> bytes:
    """A file under /proc (`rel`: e.g. "42/stat"), or under the procfs `proc_fd` names: a
    process that entered another mount namespace keeps seeing the node's processes that way."""
    if proc_fd is None:
        with open(f"/proc/{rel}", "rb") as f:
            return f.read()
    fd = os.open(rel, os.O_RDONLY | os.O_CLOEXEC, dir_fd=proc_fd)
    with os.fdopen(fd, "rb") as f:
        return f.read()


def start_time(pid: int, proc_fd: int | None = None) -> int | None:
    """Start time in clock ticks since boot, or None when no such process exists."""
    try:
        stat = read(f"{pid}/stat", proc_fd)
    except (FileNotFoundError, ProcessLookupError, NotADirectoryError, PermissionError):
        return None
    # The command name (field 2) may contain spaces and parentheses, so split after the last ')'.
    fields = stat[stat.rfind(b")") + 2 :].split()
    state = fields[0]
    if state in (b"Z", b"X"):
        return None  # a zombie has already lost its namespaces
    return int(fields[19])  # field 22 overall


def alive(pid: int, started: int) -> bool:
    """True when `pid` still names the process that started at `started`."""
    return start_time(pid) == started
