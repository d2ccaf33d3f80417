"""Reach: every namespace an object of each kind can touch, named by the field that names it."""

from __future__ import annotations

from typing import Any

import pytest

from backend.domain.limits import Touched
from backend.domain.reach import namespaces, reach
from backend.spec.kinds import KINDS

POD_KILL: dict[str, Any] = {"action": "pod-kill", "mode": "one", "selector": {}}
PROBE = {"name": "web", "type": "http", "url": "http://web"}


def _reach(kind: str, spec: dict[str, Any], own: str = "a") -> list[Touched]:
    return reach(kind, KINDS[kind].spec.model_validate(spec), own)


def _experiment(*faults: dict[str, Any]) -> dict[str, Any]:
    return {
        "hypothesis": {"title": "t", "probes": [PROBE]},
        "faults": list(faults),
        "timing": {"faultDuration": "10s"},
    }


def test_an_empty_selector_reaches_only_the_objects_own_namespace() -> None:
    assert _reach("PodChaos", POD_KILL) == [Touched("spec.selector", "a")]


def test_podchaos_namespaces_and_pod_keys() -> None:
    spec = {**POD_KILL, "selector": {"namespaces": ["b", "kube-system"]}}
    assert _reach("PodChaos", spec) == [
        Touched("spec.selector.namespaces[0]", "b"),
        Touched("spec.selector.namespaces[1]", "kube-system"),
    ]
    pods = {**POD_KILL, "selector": {"pods": {"b": ["web-0"], "c": ["db-0"]}}}
    assert _reach("PodChaos", pods) == [
        Touched("spec.selector.pods[b]", "b"),
        Touched("spec.selector.pods[c]", "c"),
    ]


def test_networkchaos_target_selector_counts_too() -> None:
    spec = {
        "action": "partition",
        "mode": "all",
        "selector": {},
        "target": {"mode": "all", "selector": {"namespaces": ["b"]}},
    }
    assert _reach("NetworkChaos", spec) == [
        Touched("spec.selector", "a"),
        Touched("spec.target.selector.namespaces[0]", "b"),
    ]


def test_iochaos_selector() -> None:
    spec = {
        "action": "latency",
        "mode": "one",
        "selector": {"pods": {"b": ["db-0"]}},
        "volumePath": "/data",
        "delay": "10ms",
    }
    assert _reach("IOChaos", spec) == [Touched("spec.selector.pods[b]", "b")]


def test_schedule_embedded_spec() -> None:
    spec = {
        "schedule": "@every 1m",
        "type": "PodChaos",
        "podChaos": {**POD_KILL, "selector": {"namespaces": ["b"]}},
    }
    assert _reach("Schedule", spec) == [Touched("spec.podChaos.selector.namespaces[0]", "b")]


def test_experiment_every_fault_with_its_index() -> None:
    net = {
        "action": "partition",
        "mode": "all",
        "selector": {},
        "target": {"mode": "all", "selector": {"pods": {"c": ["x"]}}},
    }
    spec = _experiment(
        {"name": "kill", "type": "PodChaos", "podChaos": POD_KILL},
        {"name": "cut", "type": "NetworkChaos", "networkChaos": net},
    )
    touched = _reach("Experiment", spec)
    assert touched == [
        Touched("spec.faults[0].podChaos.selector", "a"),
        Touched("spec.faults[1].networkChaos.selector", "a"),
        Touched("spec.faults[1].networkChaos.target.selector.pods[c]", "c"),
    ]
    assert namespaces(touched) == ["a", "c"]


@pytest.mark.parametrize("kind", sorted(KINDS))
def test_every_kind_has_a_reach(kind: str) -> None:
    """A new kind must reach at least its own namespace, else the webhook would judge nothing:
    its spec holds a pod selector, or it registers in EXTRA_REACH."""
    samples = {
        "PodChaos": POD_KILL,
        "NetworkChaos": {"action": "loss", "mode": "all", "selector": {}, "loss": {"loss": "1"}},
        "IOChaos": {
            "action": "latency", "mode": "one", "selector": {}, "volumePath": "/d", "delay": "1ms",
        },
        "Schedule": {"schedule": "@every 1m", "type": "PodChaos", "podChaos": POD_KILL},
        "Experiment": _experiment({"name": "k", "type": "PodChaos", "podChaos": POD_KILL}),
    }  # fmt: skip
    assert kind in samples, f"add a sample of {kind} here and check what it reaches"
    assert namespaces(_reach(kind, samples[kind])) == ["a"]
