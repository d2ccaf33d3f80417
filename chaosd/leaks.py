"""The node-wide leak scan: every Faultline-owned object on the node that no journal entry desires
is removed and reported.

The engine removes what it knows about. This scan covers what it cannot know: objects an older or
crashed chaosd left behind with its journal lost, a target whose entry was dropped wrongly, a
helper that outlived its target. It walks every network and mount namespace on the node (one
member process of each), asks each fault family for its census there (chaosd/faults/*:
`census`), and keeps an object only when the target it names has a journal entry bound to that
very namespace. Everything else of Faultline's is removed; nothing that is not Faultline's is
ever touched (the families only ever name their own table, handles, markers and mount sources).

It runs when chaosd starts (after reconciling the journal), every `--leak-scan-interval`, and on
demand (`chaosd doctor`, `GET`/`POST /doctor`).
"""

from __future__ import annotations

import logging
import os
import re
import threading
import time
from collections import Counter, deque
from dataclasses import dataclass, field
from pathlib import Path

from chaosd import namespaces, procs
from chaosd.engine import Engine
from chaosd.faults.base import FaultError, Owned
from chaosd.journal import DEFAULT_STATE_DIR, JOURNAL_FILE, Entry, read_entries
from chaosd.model import TARGET_ID_PATTERN
from chaosd.periodic import Periodic

log = logging.getLogger("chaosd.leaks")
REPAIRS_KEPT = 500
KINDS = ("nft_table", "qdisc", "delayer", "fuse_mount", "iofs_server")


@dataclass
class Found:
    namespace: str
    """"net:[inode]" or "mnt:[inode]", as /proc/<pid>/ns/* links read."""
    item: Owned
    desired: bool
    repaired: bool = False
    error: str = ""

    def as_dict(self) -> dict[str, object]:
        return {
            "namespace": self.namespace, "kind": self.item.kind,
            "target": self.item.target_id, "key": self.item.key,
            "desired": self.desired, "repaired": self.repaired, "error": self.error,
        }  # fmt: skip


@dataclass
class Report:
    namespaces: int = 0
    seconds: float = 0.0
    found: list[Found] = field(default_factory=list)
    journal_entries: int = 0

    @property
    def leaks(self) -> list[Found]:
        return [f for f in self.found if not f.desired]

    def owned(self) -> dict[str, int]:
        counts = Counter(f.item.kind for f in self.found if not f.repaired)
        return {kind: counts.get(kind, 0) for kind in KINDS}

    def as_dict(self) -> dict[str, object]:
        return {
            "namespaces": self.namespaces,
            "seconds": round(self.seconds, 4),
            "journal_entries": self.journal_entries,
            "owned": self.owned(),
            "leaks": [f.as_dict() for f in self.leaks],
            "repaired": sum(f.repaired for f in self.found),
        }


def members_by_namespace(ns: str) -> dict[int, int]:
    """Every namespace of kind `ns` a process is in, with one live member (the first started
    that is not a Faultline helper when there is one: a helper is the last way in)."""
    chosen: dict[int, tuple[bool, int, int]] = {}
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        ino = namespaces.inode(name, ns)
        started = procs.start_time(int(name))
        if ino is None or started is None:
            continue
        rank = (namespaces.is_helper(name), started, int(name))
        if ino not in chosen or rank < chosen[ino]:
            chosen[ino] = rank
    return {ino: rank[2] for ino, rank in chosen.items()}


def _bound(entry: Entry, ns: str, ino: int) -> bool:
    if entry.identity is None:  # journaled before namespace binding: bound to its process
        return namespaces.inode(entry.pid, ns) == ino
    return (entry.identity.netns if ns == "net" else entry.identity.mntns) == ino


_SUBCOMMANDS = {"serve", "attack", "recover", "status", "doctor"}


def _state_dir_of(argv: list[str]) -> str | None:
    """The state directory a chaosd command line uses, or None when it is not chaosd's."""
    is_chaosd = any(
        a == "chaosd.cli" or a.endswith(("/chaosd", "/chaosd/cli.py")) or a == "chaosd"
        for a in argv[:3]
    )
    if not is_chaosd or not _SUBCOMMANDS & set(argv):
        return None
    for i, a in enumerate(argv):
        if a == "--state-dir" and i + 1 < len(argv):
            return argv[i + 1]
        if a.startswith("--state-dir="):
            return a.split("=", 1)[1]
    return str(DEFAULT_STATE_DIR)


def peer_journals(own: Path) -> list[Path]:
    """The journals of every other chaosd running on the node (another install, a standalone
    `chaosd attack`), as paths through /proc/<pid>/root so a containerised chaosd's file is
    reachable from the host and the other way round. Their targets are theirs, not leaks."""
    found: dict[tuple[int, int], Path] = {}
    for name in os.listdir("/proc"):
        if not name.isdigit() or int(name) == os.getpid():
            continue
        try:
            argv = [a.decode(errors="replace") for a in procs.read(f"{name}/cmdline").split(b"\0")]
        except OSError:
            continue
        state = _state_dir_of([a for a in argv if a])
        if state is None:
            continue
        base = Path(f"/proc/{name}/root") if state.startswith("/") else Path(f"/proc/{name}/cwd")
        path = base / state.lstrip("/") / JOURNAL_FILE
        try:
            st = path.stat()
        except OSError:
            continue
        if (st.st_dev, st.st_ino) != _file_id(own / JOURNAL_FILE):
            found[(st.st_dev, st.st_ino)] = path
    return list(found.values())


def _file_id(path: Path) -> tuple[int, int]:
    try:
        st = path.stat()
    except OSError:
        return (0, 0)
    return (st.st_dev, st.st_ino)


class Desire:
    """Which (target, namespace) pairs some journal on the node desires: this chaosd's own and
    every running peer's, read again for each decision so a PUT that raced the census counts."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.peers = peer_journals(engine.journal.state_dir)

    def __call__(self, target_id: str, ns: str, ino: int) -> bool:
        """An object naming a target is desired when that target is bound to this namespace;
        one naming none (a qdisc carries only Faultline's handle) when any target is."""
        if target_id:
            entries = [e for e in [self.engine.journal.get(target_id)] if e is not None]
        else:
            entries = self.engine.journal.all()
        for path in self.peers:
            entries += read_entries(path, target_id or None)
        return any(_bound(e, ns, ino) for e in entries)


def scan(engine: Engine, *, repair: bool = True) -> Report:
    """Census of every namespace; with `repair`, remove each object nothing desires."""
    started = time.monotonic()
    report = Report()
    desired = Desire(engine)
    seen: set[tuple[str, int]] = set()
    for family in engine.registry.families.values():
        ns = family.namespace
        for ino, pid in members_by_namespace(ns).items():
            seen.add((ns, ino))
            try:
                items = family.census(pid)
            except FaultError as e:  # the namespace died while we looked: nothing left in it
                log.debug("census of %s:[%d] through %d: %s", ns, ino, pid, e)
                continue
            for item in items:
                found = Found(f"{ns}:[{ino}]", item, desired(item.target_id, ns, ino))
                report.found.append(found)
                if repair and not found.desired:
                    _repair(engine, desired, family, pid, ns, ino, found)
    report.namespaces = len(seen)
    report.journal_entries = len(engine.journal.all())
    report.seconds = time.monotonic() - started
    _record(engine, report)
    return report


def _repair(
    engine: Engine, desired: Desire, family: object, pid: int, ns: str, ino: int, found: Found
) -> None:
    item = found.item
    # Under the target's lock, and checked again: a PUT journals before it touches the kernel,
    # so an object made after our census read the journal is desired by the time we hold it.
    # The id was read from the object, which a process in the namespace may have forged: only a
    # well-formed id names a lock file.
    valid = re.fullmatch(TARGET_ID_PATTERN, item.target_id)
    lock_id = item.target_id if valid else "-untargeted-"
    with engine.locks.hold(lock_id):
        if desired(item.target_id, ns, ino):
            found.desired = True
            return
        try:
            family.remove_owned(pid, item)  # type: ignore[attr-defined]
            found.repaired = True
            engine.metrics.leaks_repaired.labels(item.kind).inc()
            log.warning(
                "leak repaired: %s %s of target %r in %s (no journal entry desires it)",
                item.kind, item.key, item.target_id or "?", found.namespace,
            )  # fmt: skip
        except Exception as e:  # one stubborn object must not stop the scan
            engine._exit_if_forked()
            found.error = f"{type(e).__name__}: {e}"
            log.error("leak in %s not repaired: %s %s: %s", found.namespace, item.kind,
                      item.key, found.error)  # fmt: skip


def _record(engine: Engine, report: Report) -> None:
    for kind, count in report.owned().items():
        engine.metrics.owned.labels(kind).set(count)
    engine.metrics.scan_namespaces.set(report.namespaces)
    engine.metrics.scan_seconds.observe(report.seconds)
    if report.leaks:
        log.info("leak scan: %s", report.as_dict())


class Scanner:
    """Scans one at a time (a periodic pass and a `/doctor` request never overlap) and keeps the
    last report for `GET /doctor`."""

    def __init__(self, engine: Engine, interval: float = 60.0) -> None:
        self.engine = engine
        self.interval = interval
        self.last: Report | None = None
        self.seq = 0
        """Repairs numbered from 1, so a reader (the operator) asks only for what is new."""
        self.repairs: deque[tuple[int, dict[str, object]]] = deque(maxlen=REPAIRS_KEPT)
        self._lock = threading.Lock()
        self._periodic = Periodic("chaosd-leak-scan", interval, self.run, log)

    def run(self, *, repair: bool = True) -> Report:
        with self._lock:
            report = scan(self.engine, repair=repair)
            self.last = report
            for found in report.found:
                if found.repaired:
                    self.seq += 1
                    self.repairs.append((self.seq, found.as_dict()))
            return report

    def repairs_after(self, seq: int) -> dict[str, object]:
        with self._lock:
            return {"seq": self.seq,
                    "repairs": [{"seq": n, **r} for n, r in self.repairs if n > seq]}  # fmt: skip

    def start(self) -> None:
        """Periodic scans every `interval` seconds (none when it is 0)."""
        self._periodic.start()

    def close(self) -> None:
        self._periodic.close()
