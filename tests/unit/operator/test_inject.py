"""The injector's choice of call (PUT, renew, DELETE), its recovery from a lapsed target, and
concurrent pushes, against an in-memory stand-in for chaosd (the real daemon is exercised by
tests/e2e and tests/privileged)."""

from __future__ import annotations

import threading
from typing import Any

from backend.clients.chaosd import ChaosdError
from backend.operator.desired import DesiredIndex, TargetInfo, TargetKey
from backend.operator.inject import Injector
from chaosd.model import DesiredState, LossFault

INFO = TargetInfo("containerd://" + "a" * 64, "default/web-0")


class MemoryChaosd:
    def __init__(self) -> None:
        self.held: dict[str, DesiredState] = {}
        self.calls: list[str] = []
        self.in_flight = 0
        self.most_in_flight = 0
        self.guard = threading.Lock()
        self.together = threading.Event()

    def resolve_container(self, container_id: str) -> int:
        return 4242

    def put_target(self, target_id: str, desired: DesiredState) -> dict[str, Any]:
        with self.guard:
            self.in_flight += 1
            self.most_in_flight = max(self.most_in_flight, self.in_flight)
            self.calls.append(f"PUT {target_id}")
            if self.in_flight > 1:
                self.together.set()
        # Held until a second PUT is in flight at the same time (pushed one after another,
        # the first would wait in vain for 30 s and the test would see one at a time).
        self.together.wait(30)
        with self.guard:
            self.in_flight -= 1
            self.held[target_id] = desired
        return {}

    def renew(self, target_id: str) -> None:
        self.calls.append(f"renew {target_id}")
        if target_id not in self.held:
            raise ChaosdError(f"no target {target_id!r}", status=404, retryable=False)

    def delete_target(self, target_id: str) -> None:
        self.calls.append(f"DELETE {target_id}")
        self.held.pop(target_id, None)


def _injector(chaosd: MemoryChaosd) -> tuple[DesiredIndex, Injector]:
    index = DesiredIndex()
    return index, Injector(index, lambda node: chaosd, lease_seconds=30)  # type: ignore[arg-type, return-value]


def test_put_then_renew_then_reapply_after_a_lapse_then_delete() -> None:
    chaosd = MemoryChaosd()
    chaosd.together.set()  # one target: nothing to wait for
    index, injector = _injector(chaosd)
    key = TargetKey("n1", "pod-1")
    index.set("uid-a", key, INFO, [LossFault(loss=30)])
    assert injector.push(key).ok
    assert injector.push(key).ok
    assert chaosd.calls == ["PUT pod-1", "renew pod-1"]
    del chaosd.held["pod-1"]  # the lease lapsed on the node
    assert injector.push(key).ok  # renew says 404: applied again in the same push
    assert chaosd.calls[2:] == ["renew pod-1", "PUT pod-1"]
    assert "pod-1" in chaosd.held
    index.drop_owner("uid-a")
    result = injector.push(key)
    assert result.ok and result.recovered
    assert chaosd.calls[-1] == "DELETE pod-1" and not chaosd.held


def test_push_many_pushes_targets_at_once_and_keeps_their_order() -> None:
    chaosd = MemoryChaosd()
    index, injector = _injector(chaosd)
    keys = [TargetKey("n1", f"pod-{i}") for i in range(10)]
    for k in keys:
        index.set("uid-a", k, INFO, [LossFault(loss=30)])
    results = injector.push_many(keys)
    assert [r.key for r in results] == keys and all(r.ok for r in results)
    assert chaosd.most_in_flight > 1
    assert sorted(chaosd.held) == sorted(k.target_id for k in keys)


def test_the_host_network_opt_in_reaches_chaosd_and_a_change_of_it_is_pushed() -> None:
    """chaosd refuses network faults in the node's own netns unless the desired state says the
    object opted in; the operator says so exactly for the hostNetwork pods it allowed."""
    chaosd = MemoryChaosd()
    chaosd.together.set()
    index, injector = _injector(chaosd)
    plain, host = TargetKey("n1", "pod-plain"), TargetKey("n1", "pod-host")
    index.set("uid-a", plain, INFO, [LossFault(loss=30)])
    allowed = TargetInfo(INFO.container_id, "default/node-exporter", host_network=True)
    index.set("uid-a", host, allowed, [LossFault(loss=30)])
    assert all(r.ok for r in injector.push_many([plain, host]))
    assert chaosd.held["pod-plain"].hostNetwork is False
    assert chaosd.held["pod-host"].hostNetwork is True
    # Same faults, opt-in withdrawn: a full PUT without the flag, not a renewal of the old set.
    withdrawn = TargetInfo(INFO.container_id, "default/node-exporter")
    index.set("uid-a", host, withdrawn, [LossFault(loss=30)])
    assert injector.push(host).ok
    assert chaosd.calls[-1] == "PUT pod-host"
    assert chaosd.held["pod-host"].hostNetwork is False
