"""The shared pod listing of backend/operator/pods.py: one API call serves many reconciles,
and a pod event makes the next reconcile list afresh."""

from __future__ import annotations

import threading
from typing import Any

from backend.operator.pods import PodLister


class Api:
    def __init__(self) -> None:
        self.calls: list[list[str] | None] = []
        self.pods = {"a": [{"n": 1}], "b": [{"n": 2}]}
        self.gate = threading.Event()
        self.gate.set()

    def __call__(self, namespaces: list[str] | None) -> list[dict[str, Any]]:
        self.calls.append(namespaces)
        self.gate.wait(30)
        return [p for ns in namespaces or sorted(self.pods) for p in self.pods[ns]]


def test_a_listing_is_shared_until_a_pod_event_or_its_age_ends_it() -> None:
    api = Api()
    lister = PodLister(api, max_age=3600)
    assert lister(["a", "b"]) == [{"n": 1}, {"n": 2}]
    assert lister(["a"]) == [{"n": 1}]
    assert api.calls == [["a"], ["b"]]
    api.pods["a"] = [{"n": 3}]
    lister.invalidate("a")
    assert lister(["a"]) == [{"n": 3}]
    assert lister(None) == [{"n": 3}, {"n": 2}]  # all namespaces: never cached
    assert api.calls == [["a"], ["b"], ["a"], None]
    stale = PodLister(api, max_age=0)
    stale(["a"]), stale(["a"])
    assert api.calls[-2:] == [["a"], ["a"]]


def test_concurrent_reconciles_share_one_call_and_an_event_during_it_is_not_lost() -> None:
    api = Api()
    lister = PodLister(api, max_age=3600)
    api.gate.clear()
    results: list[list[dict[str, Any]]] = []
    threads = [threading.Thread(target=lambda: results.append(lister(["a"]))) for _ in range(8)]
    for t in threads:
        t.start()
    while not api.calls:
        threading.Event().wait(0.01)
    lister.invalidate("a")  # a pod changed while the listing was in flight
    api.gate.set()
    for t in threads:
        t.join(30)
    # The first call's result was not cached (it may predate the event): one more call.
    assert api.calls == [["a"], ["a"]]
    assert len(results) == 8
