"""Namespace binding's pure parts: helper markers, journal upgrade, peer chaosd discovery."""

from __future__ import annotations

import sqlite3
import time
from pathlib import Path

from chaosd.faults.base import HELPER_MARKERS
from chaosd.faults.io.server import MARKER as IOFS_MARKER
from chaosd.faults.network.delayer import MARKER as DELAYER_MARKER
from chaosd.journal import JOURNAL_FILE, Journal, read_entries
from chaosd.leaks import _state_dir_of


def test_helper_markers_are_the_helpers_own() -> None:
    assert set(HELPER_MARKERS) == {DELAYER_MARKER, IOFS_MARKER}


def test_a_journal_written_before_namespace_binding_is_upgraded_in_place(tmp_path: Path) -> None:
    state = tmp_path / "state"
    state.mkdir()
    old = sqlite3.connect(state / JOURNAL_FILE)
    old.execute(
        "CREATE TABLE targets (id TEXT PRIMARY KEY, pid INTEGER NOT NULL, start_time INTEGER "
        "NOT NULL, desired TEXT NOT NULL, lease_expiry REAL NOT NULL, status TEXT NOT NULL, "
        "last_error TEXT NOT NULL DEFAULT '', updated REAL NOT NULL)"
    )
    old.execute(
        "INSERT INTO targets VALUES ('old', 42, 7, '{\"pid\": 42}', ?, 'applied', '', ?)",
        (time.time() + 60, time.time()),
    )
    old.commit()
    old.close()
    # another chaosd may read it before this one upgrades it
    (before,) = read_entries(state / JOURNAL_FILE, "old")
    assert before.identity is None and before.pid == 42
    journal = Journal(state)
    (entry,) = journal.all()
    assert entry.id == "old" and entry.identity is None  # bound to its process, as then
    entry.netns, entry.mntns = 11, 12
    journal.put(entry)
    assert journal.get("old").identity is not None  # type: ignore[union-attr]
    journal.close()
    (after,) = read_entries(state / JOURNAL_FILE, "old")
    assert (after.netns, after.mntns) == (11, 12)
    assert read_entries(state / JOURNAL_FILE, "missing") == []
    assert read_entries(tmp_path / "nothing-here", "old") == []


def test_peer_chaosd_state_dirs_are_read_from_their_command_lines() -> None:
    py = "/usr/bin/python3"
    assert _state_dir_of([py, "-m", "chaosd.cli", "serve", "--state-dir", "/s"]) == "/s"
    assert _state_dir_of(["/usr/local/bin/chaosd", "attack", "--state-dir=rel"]) == "rel"
    assert _state_dir_of(["chaosd", "serve"]) == "/var/lib/faultline/chaosd"
    assert _state_dir_of([py, "-m", "chaosd.faults.io.server", "faultline-iofs"]) is None
    assert _state_dir_of([py, "-m", "chaosd.cli", "--help"]) is None
    assert _state_dir_of(["sleep", "serve"]) is None
