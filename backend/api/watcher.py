"""Keeps the database mirror of chaos objects, experiments and schedules equal to the cluster.

The dashboard reads chaos objects from its database (fast, paginated, filterable, and still there
when the cluster is briefly unreachable), so something must copy the cluster into it: one thread
per kind lists every object (replacing the mirror of that kind), then watches from the list's
resourceVersion. When the watch expires (410 Gone) or fails, it lists again, so a missed event
never leaves a stale row behind. kubectl users and dashboard users therefore see the same objects.
A deleted object is archived (its last state moves to the archive table), not forgotten. A
finished Experiment whose run the dashboard missed gets that run recorded (backend/api/backfill.py).
"""

from __future__ import annotations

import logging
import threading
from typing import TYPE_CHECKING, Any

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from backend.api.backfill import backfill
from backend.clients import kube
from backend.db.models import ChaosObject, Schedule
from backend.db.repositories import mirror
from backend.db.repositories.archived_objects import archive_deleted
from backend.spec import KINDS

if TYPE_CHECKING:
    from backend.clients.kube.client import Kube
    from backend.clients.kube.objects import Watch

log = logging.getLogger("faultline.api.watcher")

MIRRORED_KINDS = ("PodChaos", "NetworkChaos", "IOChaos", "Experiment", "Schedule")
WATCH_SECONDS = 300
"""Server-side watch timeout; the watch is re-opened from the last resourceVersion after it."""
MAX_BACKOFF_SECONDS = 30.0


class Watcher:
    def __init__(self, cluster: Kube, sessions: sessionmaker[Session]) -> None:
        self.objects = cluster.objects
        self.sessions = sessions
        self.relists: dict[str, int] = dict.fromkeys(MIRRORED_KINDS, 0)
        """How often each kind was listed (start-up counts as one); a health signal."""
        self.failures: dict[str, int] = dict.fromkeys(MIRRORED_KINDS, 0)
        """Lists or watches of each kind that failed (and were retried after a backoff)."""
        self.synced = threading.Event()
        """Set once every kind has been listed, i.e. the mirror matches the cluster."""
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []
        self._watches: dict[str, Watch] = {}
        self._lock = threading.Lock()

    def start(self, resource_versions: dict[str, str] | None = None) -> None:
        """Starts one thread per kind. `resource_versions` resumes watches without a list (e.g.
        after a restart); a version the server no longer keeps costs one relist."""
        versions = resource_versions or {}
        self._threads = []
        for kind in MIRRORED_KINDS:
            thread = threading.Thread(
                target=self._follow, args=(kind, versions.get(kind)), name=f"watch-{kind}"
            )
            thread.daemon = True  # never keeps the process alive; stop() joins it
            thread.start()
            self._threads.append(thread)

    @property
    def running(self) -> bool:
        return any(t.is_alive() for t in self._threads)

    def stop(self) -> None:
        self._stop.set()
        with self._lock:
            watches = list(self._watches.values())
        for watch in watches:
            watch.close()  # unblocks the read in the watching thread
        for thread in self._threads:
            thread.join()

    def _follow(self, kind: str, version: str | None) -> None:
        backoff = 1.0
        while not self._stop.is_set():
            try:
                if version is None:
                    version = self.relist(kind)
                    if all(self.relists.values()):
                        self.synced.set()
                version = self.watch(kind, version)
                backoff = 1.0
            except kube.Gone as e:
                log.info("watch of %s expired (%s); listing again", kind, e)
                version = None
            except Exception as e:
                if self._stop.is_set():
                    return
                self.failures[kind] += 1
                log.warning("watch of %s failed (%s); listing again in %.0fs", kind, e, backoff)
                version = None
                self._stop.wait(backoff)
                backoff = min(backoff * 2, MAX_BACKOFF_SECONDS)

    def relist(self, kind: str) -> str:
        """Replaces the mirror of `kind` by what the cluster holds; returns the list's version."""
        listing = self.objects.listing(KINDS[kind], None)
        items = listing.get("items", [])
        with self.sessions() as session:
            for item in items:
                store(session, kind, item)
            present = {(i["metadata"]["namespace"], i["metadata"]["name"]) for i in items}
            for namespace, name in stored_names(session, kind):
                if (namespace, name) not in present:
                    # Deleted while nobody watched: archive the state last mirrored.
                    archive_deleted(session, kind, namespace, name)
        self.relists[kind] += 1
        return str(listing["metadata"]["resourceVersion"])

    def watch(self, kind: str, version: str) -> str:
        """Applies watch events to the mirror until the server ends the watch; returns the last
        resourceVersion seen. Raises kube.Gone when `version` has expired."""
        watch = self.objects.watch(KINDS[kind], version, timeout_seconds=WATCH_SECONDS)
        with self._lock:
            # Checked under the lock so stop() either sees this watch or we see its flag.
            if self._stop.is_set():
                watch.close()
            self._watches[kind] = watch
        try:
            for event in watch:
                if self._stop.is_set():
                    break
                version = self._apply(kind, event) or version
        finally:
            with self._lock:
                self._watches.pop(kind, None)
            watch.release()
        return version

    def _apply(self, kind: str, event: dict[str, Any]) -> str | None:
        kind_of_event, obj = event.get("type"), event.get("object") or {}
        if kind_of_event in ("ADDED", "MODIFIED", "DELETED"):
            with self.sessions() as session:
                if kind_of_event == "DELETED":
                    if kind == "Experiment":  # its last status may end a run we missed
                        record_missed_run(session, obj)
                    meta = obj["metadata"]
                    archive_deleted(session, kind, meta["namespace"], meta["name"], obj)
                else:
                    store(session, kind, obj)
        version = (obj.get("metadata") or {}).get("resourceVersion")
        return str(version) if version else None


def store(session: Session, kind: str, obj: dict[str, Any]) -> None:
    """Upserts one custom resource (as the API server returns it) into the mirror."""
    meta, spec, status = obj["metadata"], obj.get("spec") or {}, obj.get("status") or {}
    common = dict(
        namespace=meta["namespace"], name=meta["name"], uid=meta["uid"],
        spec=spec, status=status, phase=str(status.get("phase") or ""),
    )  # fmt: skip
    if kind == "Schedule":
        mirror.upsert_schedule(
            session, schedule=str(spec.get("schedule", "")), type=str(spec.get("type", "")),
            **common,
        )  # fmt: skip
    else:
        mirror.upsert_chaos_object(session, kind=kind, **common)
    if kind == "Experiment":
        record_missed_run(session, obj)


def record_missed_run(session: Session, obj: dict[str, Any]) -> None:
    """A finished run the dashboard missed (it was down) is recorded from the status; a failure
    here is logged and never stops the mirror."""
    try:
        backfill(session, obj)
    except Exception:
        session.rollback()
        meta = obj.get("metadata") or {}
        log.exception("backfill of %s/%s failed", meta.get("namespace"), meta.get("name"))


def stored_names(session: Session, kind: str) -> list[tuple[str, str]]:
    if kind == "Schedule":
        rows = session.execute(select(Schedule.namespace, Schedule.name))
    else:
        rows = session.execute(
            select(ChaosObject.namespace, ChaosObject.name).where(ChaosObject.kind == kind)
        )
    return [(ns, name) for ns, name in rows]
