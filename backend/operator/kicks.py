"""Reconcile chaos objects as soon as pods they may select change, not only on the next tick.

Dynamic targets (a replacement pod created by its ReplicaSet) and moving partition targets (a
peer re-created with a new IP) used to wait for the object's periodic tick. The operator
watches pods; when a pod's containers start or stop running, its labels change or it goes
away, every object whose selectors look at that pod's namespace is reconciled at once. The tick
stays, for lease renewal and as the fallback for anything a watch missed.

A burst of pod events (a Deployment rolling fifty pods) collapses into few reconciles: an object
with a kick queued or running is not queued again, only marked to run once more afterwards.
"""

from __future__ import annotations

import contextvars
import logging
import threading
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from typing import Any

log = logging.getLogger("faultline.operator.kicks")
KICK_WORKERS = 4


def pod_signature(pod: Mapping[str, Any]) -> tuple[Any, ...]:
    """What about a pod can change an object's targets: its labels, node, phase and which
    containers run (their ids: a restarted container is a new process for chaosd)."""
    meta, spec, status = pod.get("metadata") or {}, pod.get("spec") or {}, pod.get("status") or {}
    running = sorted(
        (cs.get("name"), cs.get("containerID"))
        for cs in status.get("containerStatuses") or []
        if "running" in (cs.get("state") or {})
    )
    labels = sorted((meta.get("labels") or {}).items())
    return (
        tuple(labels),
        spec.get("nodeName"),
        status.get("phase"),
        status.get("podIP"),
        tuple(running),
    )


def selected_namespaces(spec: Mapping[str, Any], own: str) -> frozenset[str]:
    """The namespaces whose pods can be targets (or partition peers) of a chaos spec."""
    out: set[str] = set()
    for sel in (spec.get("selector") or {}, ((spec.get("target") or {}).get("selector")) or None):
        if sel is None:
            continue
        names = sel.get("namespaces") or sorted(sel.get("pods") or {}) or [own]
        out.update(names)
    return frozenset(out)


class Kicker:
    def __init__(self, run: Callable[[str, str, str, str], None]) -> None:
        """`run(uid, plural, namespace, name)` reconciles one object and writes its status."""
        self._run = run
        self._lock = threading.Lock()
        self._objects: dict[str, tuple[str, str, str, frozenset[str]]] = {}
        self._pending: set[str] = set()
        """Objects with a kick queued or running."""
        self._again: set[str] = set()
        """Objects whose pods changed while their kick was running: one more run is due."""
        self._pods: dict[str, tuple[Any, ...]] = {}
        self._pool = ThreadPoolExecutor(KICK_WORKERS, thread_name_prefix="faultline-kick")

    def track(
        self, uid: str, plural: str, namespace: str, name: str, spaces: frozenset[str]
    ) -> None:
        with self._lock:
            self._objects[uid] = (plural, namespace, name, spaces)

    def forget(self, uid: str) -> None:
        with self._lock:
            self._objects.pop(uid, None)

    def pod_event(self, event_type: str | None, pod: Mapping[str, Any]) -> int:
        """Note a pod watch event; kick the objects it may concern. Returns how many."""
        meta = pod.get("metadata") or {}
        uid, namespace = meta.get("uid"), meta.get("namespace")
        if not uid or not namespace:
            return 0
        gone = event_type == "DELETED"
        sig = pod_signature(pod)
        with self._lock:
            before = self._pods.pop(uid, None) if gone else self._pods.get(uid)
            if not gone:
                self._pods[uid] = sig
            if not gone and before == sig:
                return 0
            concerned = [(u, obj) for u, obj in self._objects.items() if namespace in obj[3]]
            due = [(u, obj) for u, obj in concerned if u not in self._pending]
            # Queued or running already: run once more when done, never pile up.
            self._again.update(u for u, _ in concerned if u in self._pending)
            self._pending.update(u for u, _ in due)
        for u, (plural, ns, name, _) in due:
            # In a copy of the watch handler's context, as kopf's event posting needs it.
            self._pool.submit(contextvars.copy_context().run, self._kick, u, plural, ns, name)
        return len(concerned)

    def kick_all(self) -> int:
        """Reconcile every tracked object now (the emergency stop); returns how many."""
        with self._lock:
            due = [(u, obj) for u, obj in self._objects.items() if u not in self._pending]
            self._again.update(u for u in self._objects if u in self._pending)
            self._pending.update(u for u, _ in due)
        for u, (plural, ns, name, _) in due:
            self._pool.submit(contextvars.copy_context().run, self._kick, u, plural, ns, name)
        return len(due)

    def busy(self) -> bool:
        """Whether any kick is queued or running."""
        with self._lock:
            return bool(self._pending)

    def _kick(self, uid: str, plural: str, namespace: str, name: str) -> None:
        while True:
            with self._lock:
                self._again.discard(uid)
            try:
                self._run(uid, plural, namespace, name)
            except Exception as e:  # the tick retries; a kick is only an early reconcile
                log.warning("kick of %s/%s failed: %s", namespace, name, e)
            with self._lock:
                if uid not in self._again or uid not in self._objects:
                    self._pending.discard(uid)
                    self._again.discard(uid)
                    return
