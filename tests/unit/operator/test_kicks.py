"""Which pod events reconcile which chaos objects at once (backend/operator/kicks.py)."""

from __future__ import annotations

import threading
from typing import Any

from backend.operator.kicks import Kicker, selected_namespaces


def _pod(ns: str, uid: str, *, running: str | None = "c1", app: str = "web") -> dict[str, Any]:
    statuses = (
        [{"name": "main", "containerID": running, "state": {"running": {}}}] if running else []
    )
    return {
        "metadata": {"namespace": ns, "uid": uid, "labels": {"app": app}},
        "spec": {"nodeName": "n1"},
        "status": {"phase": "Running", "containerStatuses": statuses},
    }


class Runs:
    def __init__(self) -> None:
        self.calls: list[tuple[str, str, str]] = []
        self.done = threading.Semaphore(0)

    def __call__(self, uid: str, plural: str, ns: str, name: str) -> None:
        self.calls.append((plural, ns, name))
        self.done.release()

    def wait(self, n: int) -> list[tuple[str, str, str]]:
        for _ in range(n):
            assert self.done.acquire(timeout=30)
        return sorted(self.calls)


def test_selected_namespaces_cover_selector_pods_and_partition_peers() -> None:
    assert selected_namespaces({"selector": {}}, "own") == {"own"}
    assert selected_namespaces({"selector": {"namespaces": ["a", "b"]}}, "own") == {"a", "b"}
    assert selected_namespaces({"selector": {"pods": {"p": ["x"]}}}, "own") == {"p"}
    spec = {"selector": {}, "target": {"selector": {"namespaces": ["peer"]}}}
    assert selected_namespaces(spec, "own") == {"own", "peer"}


def test_a_pod_that_starts_running_kicks_the_objects_looking_at_its_namespace() -> None:
    runs = Runs()
    k = Kicker(runs)
    k.track("u1", "networkchaos", "shop", "loss", frozenset({"shop"}))
    k.track("u2", "iochaos", "other", "slow", frozenset({"other"}))
    assert k.pod_event("ADDED", _pod("shop", "p1", running=None)) == 1
    assert runs.wait(1) == [("networkchaos", "shop", "loss")]
    assert k.pod_event("MODIFIED", _pod("shop", "p1", running=None)) == 0  # nothing changed
    assert k.pod_event("MODIFIED", _pod("shop", "p1", running="c1")) == 1  # now it runs
    runs.wait(1)
    assert k.pod_event("MODIFIED", _pod("shop", "p1", running="c1", app="api")) == 1  # relabelled
    runs.wait(1)
    assert k.pod_event("DELETED", _pod("shop", "p1", running="c1", app="api")) == 1
    assert len(runs.wait(1)) == 4
    k.forget("u1")
    assert k.pod_event("ADDED", _pod("shop", "p2")) == 0


def test_a_burst_of_pod_events_queues_one_kick_per_object() -> None:
    gate = threading.Event()
    started = threading.Event()
    calls: list[str] = []

    def slow(uid: str, plural: str, ns: str, name: str) -> None:
        calls.append(name)
        started.set()
        gate.wait(30)

    k = Kicker(slow)
    k.track("u1", "networkchaos", "shop", "loss", frozenset({"shop"}))
    assert k.pod_event("ADDED", _pod("shop", "p0")) == 1
    assert started.wait(30)  # the first kick runs
    for i in range(1, 50):
        k.pod_event("ADDED", _pod("shop", f"p{i}"))
    gate.set()
    for _ in range(600):  # at most 30 s
        if not k.busy():
            break
        threading.Event().wait(0.05)
    assert calls.count("loss") == 2  # the running one, then exactly one more for the burst
