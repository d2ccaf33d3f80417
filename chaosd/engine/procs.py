"""Process identity: a PID alone does not name a process for long, so chaosd pairs it with the
process start time and treats a changed start time as "the target is gone"."""

from __future__ import annotations


def start_time(pid: int) -> int | None:
    """Start time in clock ticks since boot, or None when no such process exists."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            stat = f.read()
    except (FileNotFoundError, ProcessLookupError, NotADirectoryError):
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
