"""The operator's own target limits, whatever admitted the object: a reconcile refuses a
protected or non-allowed namespace with a condition and a message naming the field, lists no pod
there and pushes nothing; limits tightened under a running object withdraw its faults.

chaosd is an in-memory stand-in here (the real daemon: tests/e2e/test_operator_limits.py)."""

from __future__ import annotations

import dataclasses
from typing import Any

from backend.domain.limits import TargetLimits
from backend.operator.chaos import ChaosObject, World, reconcile
from backend.operator.desired import DesiredIndex
from backend.operator.events import newly_refused
from backend.operator.inject import Injector
from backend.spec.kinds import HOST_NETWORK_ANNOTATION
from chaosd.model import DesiredState


class Chaosd:
    def __init__(self) -> None:
        self.held: dict[str, DesiredState] = {}

    def resolve_container(self, container_id: str) -> int:
        return 4242

    def put_target(self, target_id: str, desired: DesiredState) -> dict[str, Any]:
        self.held[target_id] = desired
        return {}

    def renew(self, target_id: str) -> None:
        pass

    def delete_target(self, target_id: str) -> None:
        self.held.pop(target_id, None)


def _pod(namespace: str, name: str) -> dict[str, Any]:
    return {
        "metadata": {"namespace": namespace, "name": name, "uid": f"uid-{name}", "labels": {}},
        "spec": {"nodeName": "node-1", "containers": [{"name": "app"}]},
        "status": {
            "phase": "Running",
            "podIP": "10.0.0.9",
            "containerStatuses": [
                {"name": "app", "containerID": "containerd://" + "a" * 64, "state": {"running": {}}}
            ],
        },
    }


def _world(limits: TargetLimits, chaosd: Chaosd, listed: list[list[str] | None]) -> World:
    pods = [_pod("shop", "web"), _pod("kube-system", "coredns")]

    def list_pods(namespaces: list[str] | None) -> list[dict[str, Any]]:
        listed.append(namespaces)
        return [p for p in pods if namespaces is None or p["metadata"]["namespace"] in namespaces]

    injector = Injector(DesiredIndex(), lambda node: chaosd, lease_seconds=30)  # type: ignore[arg-type, return-value]
    return World(
        list_pods=list_pods,
        node_labels=dict,
        delete_pod=lambda ns, name, grace: True,
        kill_container=lambda node, cid: None,
        injector=injector,
        limits=limits,
    )


def _loss(selector: dict[str, Any], status: dict[str, Any] | None = None) -> ChaosObject:
    spec = {"action": "loss", "mode": "all", "selector": selector, "loss": {"loss": "100"}}
    return ChaosObject("NetworkChaos", "shop", "drop", "uid-obj", spec, status or {}, {})


def _condition(status: dict[str, Any], ctype: str) -> dict[str, Any]:
    return next(c for c in status["conditions"] if c["type"] == ctype)


def test_a_protected_namespace_is_refused_and_nothing_is_listed_or_pushed() -> None:
    chaosd, listed = Chaosd(), []
    world = _world(TargetLimits.build(), chaosd, listed)
    status = reconcile(_loss({"namespaces": ["kube-system"]}), world)
    assert status["phase"] == "Failed"
    assert "spec.selector.namespaces[0]" in status["message"]
    assert "'kube-system'" in status["message"]
    within = _condition(status, "WithinLimits")
    assert (within["status"], within["reason"]) == ("False", "OutsideLimits")
    assert listed == [] and chaosd.held == {}
    assert status.get("injectedTargets", 0) == 0
    # The Event is told once: when the condition turns False, not on every later tick.
    assert newly_refused({}, status) == status["message"]
    assert newly_refused(status, reconcile(_loss({"namespaces": ["kube-system"]}), world)) == ""


def test_the_allow_list_refuses_other_namespaces_and_admits_its_own() -> None:
    chaosd, listed = Chaosd(), []
    world = _world(TargetLimits.build(allowed=["shop"]), chaosd, listed)
    refused = reconcile(_loss({"pods": {"bank": ["vault"]}}), world)
    assert "spec.selector.pods[bank]" in refused["message"] and chaosd.held == {}

    admitted = reconcile(_loss({}), world)
    assert _condition(admitted, "WithinLimits")["status"] == "True"
    assert admitted["injectedTargets"] == 1 and list(chaosd.held) == ["pod-uid-web"]
    assert listed == [["shop"]]


def test_a_network_target_in_a_protected_namespace_is_refused() -> None:
    chaosd, listed = Chaosd(), []
    world = _world(TargetLimits.build(), chaosd, listed)
    obj = _loss({})
    obj.spec["action"] = "partition"
    obj.spec["target"] = {"mode": "all", "selector": {"namespaces": ["kube-system"]}}
    status = reconcile(obj, world)
    assert "spec.target.selector.namespaces[0]" in status["message"]
    assert chaosd.held == {} and listed == []


def test_limits_tightened_under_a_running_object_withdraw_its_faults() -> None:
    chaosd, listed = Chaosd(), []
    world = _world(TargetLimits.build(), chaosd, listed)
    running = reconcile(_loss({}), world)
    assert running["injectedTargets"] == 1 and chaosd.held

    # Limits come from settings, so they change with an operator restart; there the fresh
    # index holds nothing and chaosd's lease lapses. Within one index the refusal withdraws now.
    tightened = dataclasses.replace(world, limits=TargetLimits.build(allowed=["cart"]))
    status = reconcile(_loss({}, running), tightened)
    assert status["phase"] == "Failed" and "allowedNamespaces" in status["message"]
    assert status["injectedTargets"] == 0 and chaosd.held == {}
    assert [e["type"] for e in status["records"][0]["events"]] == ["Applied", "Recovered"]


def test_a_hostnetwork_pod_needs_the_objects_explicit_opt_in() -> None:
    chaosd, listed = Chaosd(), []
    world = _world(TargetLimits.build(), chaosd, listed)
    host = _pod("shop", "web")
    host["spec"]["hostNetwork"] = True
    world.list_pods = lambda namespaces: [host]
    status = reconcile(_loss({}), world)
    (record,) = status["records"]
    assert record["phase"] == "Failed" and "hostNetwork" in record["lastError"]
    assert HOST_NETWORK_ANNOTATION in record["lastError"] and chaosd.held == {}
    # Told once: a later tick adds no second Failed event.
    again = reconcile(_loss({}, status), world)
    assert len(again["records"][0]["events"]) == 1

    opted = _loss({})
    opted.annotations[HOST_NETWORK_ANNOTATION] = "true"
    status = reconcile(opted, world)
    assert status["injectedTargets"] == 1 and list(chaosd.held) == ["pod-uid-web"]
    assert world.injector.index.targets_of("uid-obj")
