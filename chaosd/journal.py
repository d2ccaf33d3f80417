"""The node's durable record of every target chaosd has touched.

Recovery must survive a crash of chaosd itself, so the desired state of a target is written here
(and fsynced) before any kernel object is created for it. On restart the engine reads this record
to put back what should be in force and to remove everything else. SQLite in WAL mode with
`synchronous=FULL` gives us atomic, durable single-row updates that several chaosd processes on
one host (a server and standalone CLI attacks) can share safely.
"""

from __future__ import annotations

import json
import os
import sqlite3
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from chaosd.model import DesiredState

DEFAULT_STATE_DIR = Path("/var/lib/faultline/chaosd")
JOURNAL_FILE = "journal.sqlite3"

_SCHEMA = """
CREATE TABLE IF NOT EXISTS targets (
    id TEXT PRIMARY KEY,
    pid INTEGER NOT NULL,
    start_time INTEGER NOT NULL,
    desired TEXT NOT NULL,
    lease_expiry REAL NOT NULL,
    status TEXT NOT NULL,
    last_error TEXT NOT NULL DEFAULT '',
    updated REAL NOT NULL,
    netns INTEGER NOT NULL DEFAULT 0,
    mntns INTEGER NOT NULL DEFAULT 0
)
"""
_COLUMNS = "id, pid, start_time, desired, lease_expiry, status, last_error, updated, netns, mntns"
_ADDED = {"netns": "INTEGER NOT NULL DEFAULT 0", "mntns": "INTEGER NOT NULL DEFAULT 0"}
"""Columns newer than the first journal: added in place when an older chaosd wrote the file."""


class Status:
    """Where a target is in its life cycle; `applying` and `recovering` mean work was in flight."""

    APPLYING = "applying"
    APPLIED = "applied"
    RECOVERING = "recovering"
    FAILED = "failed"


@dataclass(frozen=True)
class Identity:
    """A target's namespaces by inode: two processes are in one target when these are equal."""

    netns: int
    mntns: int


@dataclass
class Entry:
    """One target's journaled record. `lease_expiry` is wall-clock epoch seconds, so it keeps
    its meaning across a restart of chaosd (a monotonic clock would not)."""

    id: str
    pid: int
    start_time: int
    """Process start time in clock ticks since boot (/proc/<pid>/stat field 22): tells a live
    target from an unrelated process that later received the same PID."""
    desired: DesiredState
    lease_expiry: float
    status: str
    last_error: str = ""
    updated: float = field(default_factory=time.time)
    netns: int = 0
    mntns: int = 0
    """The inodes of the target's network and mount namespaces when it was put: the target's
    identity, which outlives the process (chaosd/namespaces.py). 0: unknown (an entry from
    before namespace binding, which is bound to its process as it was then)."""

    @property
    def identity(self) -> Identity | None:
        return Identity(self.netns, self.mntns) if self.netns and self.mntns else None

    def lease_lapsed(self, now: float | None = None) -> bool:
        return (time.time() if now is None else now) >= self.lease_expiry


class Journal:
    """Thread-safe access to the targets table. Every write commits durably before returning."""

    def __init__(self, state_dir: Path) -> None:
        self.state_dir = state_dir
        state_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
        self.path = state_dir / JOURNAL_FILE
        self._lock = threading.Lock()
        self._pid = os.getpid()
        # autocommit mode (isolation_level=None): each statement is its own durable transaction.
        self._db = sqlite3.connect(
            self.path, isolation_level=None, check_same_thread=False, timeout=30
        )
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=FULL")
        self._db.execute(_SCHEMA)
        have = {row[1] for row in self._db.execute("PRAGMA table_info(targets)")}
        for column, decl in _ADDED.items():
            if column not in have:
                self._db.execute(f"ALTER TABLE targets ADD COLUMN {column} {decl}")

    def close(self) -> None:
        with self._lock:
            self._db.close()

    @contextmanager
    def _cursor(self) -> Iterator[sqlite3.Cursor]:
        if os.getpid() != self._pid:
            # A forked copy of chaosd must never share the parent's SQLite connection (SQLite
            # forbids it) or write a stale view of a target: leave without touching anything.
            os._exit(70)
        with self._lock:
            cur = self._db.cursor()
            try:
                yield cur
            finally:
                cur.close()

    def put(self, entry: Entry) -> None:
        entry.updated = time.time()
        with self._cursor() as cur:
            cur.execute(
                f"INSERT OR REPLACE INTO targets ({_COLUMNS}) VALUES ({', '.join('?' * 10)})",
                (
                    entry.id,
                    entry.pid,
                    entry.start_time,
                    entry.desired.model_dump_json(),
                    entry.lease_expiry,
                    entry.status,
                    entry.last_error,
                    entry.updated,
                    entry.netns,
                    entry.mntns,
                ),
            )

    def get(self, target_id: str) -> Entry | None:
        with self._cursor() as cur:
            row = cur.execute(
                f"SELECT {_COLUMNS} FROM targets WHERE id = ?", (target_id,)
            ).fetchone()
        return _entry(row) if row else None

    def all(self) -> list[Entry]:
        with self._cursor() as cur:
            rows = cur.execute(f"SELECT {_COLUMNS} FROM targets ORDER BY id").fetchall()
        return [_entry(r) for r in rows]

    def remove(self, target_id: str) -> None:
        with self._cursor() as cur:
            cur.execute("DELETE FROM targets WHERE id = ?", (target_id,))


def _entry(row: tuple[object, ...]) -> Entry:
    target_id, pid, start, desired, expiry, status, error, updated, netns, mntns = row
    return Entry(
        id=str(target_id),
        pid=int(str(pid)),
        start_time=int(str(start)),
        desired=DesiredState.model_validate(json.loads(str(desired))),
        lease_expiry=float(str(expiry)),
        status=str(status),
        last_error=str(error),
        updated=float(str(updated)),
        netns=int(str(netns)),
        mntns=int(str(mntns)),
    )


def read_entries(path: Path, target_id: str | None) -> list[Entry]:
    """Another chaosd's entries for `target_id` (None: all), read-only (its journal is its own
    to write); none when the file cannot be read (that chaosd is gone, or not a journal)."""
    try:
        db = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=5)
    except sqlite3.Error:
        return []
    try:
        have = {row[1] for row in db.execute("PRAGMA table_info(targets)")}
        columns = ", ".join(c if c in have else "0" for c in _COLUMNS.split(", "))
        if target_id is None:
            rows = db.execute(f"SELECT {columns} FROM targets").fetchall()
        else:
            query = f"SELECT {columns} FROM targets WHERE id = ?"
            rows = db.execute(query, (target_id,)).fetchall()
        return [_entry(r) for r in rows]
    except (sqlite3.Error, ValueError):
        return []
    finally:
        db.close()
