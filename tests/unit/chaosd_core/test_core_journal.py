from __future__ import annotations

import os
import sqlite3
import subprocess
import time
from pathlib import Path

from chaosd import procs
from chaosd.journal import Entry, Journal, Status
from chaosd.model import DesiredState, LossFault


def _entry(target_id: str = "t1", pid: int = 4242) -> Entry:
    desired = DesiredState(pid=pid, faults=[LossFault(loss=30)], lease_seconds=12, owner="ns/x")
    return Entry(target_id, pid, 777, desired, time.time() + 12, Status.APPLYING)


def test_entries_survive_reopening(tmp_path: Path) -> None:
    j = Journal(tmp_path)
    j.put(_entry("a"))
    j.put(_entry("b"))
    j.remove("a")
    j.close()
    again = Journal(tmp_path)
    entries = again.all()
    assert [e.id for e in entries] == ["b"]
    assert entries[0].desired.faults == [LossFault(loss=30)]
    assert entries[0].start_time == 777 and entries[0].desired.owner == "ns/x"
    again.close()


def test_journal_is_wal_with_full_sync(tmp_path: Path) -> None:
    j = Journal(tmp_path)
    j.put(_entry())
    db = sqlite3.connect(j.path)
    assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    db.close()
    assert j._db.execute("PRAGMA synchronous").fetchone()[0] == 2  # FULL
    j.close()


def test_put_replaces_and_lease_lapses(tmp_path: Path) -> None:
    j = Journal(tmp_path)
    e = _entry()
    j.put(e)
    e.status, e.lease_expiry = Status.APPLIED, time.time() - 1
    j.put(e)
    got = j.get("t1")
    assert got is not None and got.status == Status.APPLIED and got.lease_lapsed()
    assert j.get("missing") is None
    j.close()


def test_start_time_tells_processes_apart() -> None:
    p = subprocess.Popen(["sleep", "30"])
    try:
        started = procs.start_time(p.pid)
        assert started is not None and started >= procs.start_time(os.getpid())  # type: ignore[operator]
        assert procs.alive(p.pid, started)
        assert not procs.alive(p.pid, started + 1)  # same PID, other process
    finally:
        p.kill()
        p.wait()
    assert procs.start_time(p.pid) is None


def test_zombie_counts_as_gone() -> None:
    p = subprocess.Popen(["true"])
    deadline = time.monotonic() + 60
    while procs.start_time(p.pid) is not None and time.monotonic() < deadline:
        time.sleep(0.01)  # exited but not reaped: a zombie
    assert procs.start_time(p.pid) is None
    p.wait()
