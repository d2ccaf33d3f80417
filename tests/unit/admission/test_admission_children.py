"""Objects the operator makes from a parent carry the parent's creator record, so the webhook
judges them as the user who created the parent (the e2e module checks the real Schedule child)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from backend.experiment.faults import child_manifests
from backend.operator.schedule_children import child_manifest
from backend.spec.creator import CREATED_BY_ANNOTATION, Creator, recorded_creator
from backend.spec.experiment import ExperimentSpec

ALICE = Creator("alice", "u-1", ("devs",), {"scopes": ("a",)})
POD_KILL: dict[str, Any] = {"action": "pod-kill", "mode": "one", "selector": {}}


def _meta(creator: Creator | None) -> dict[str, Any]:
    meta: dict[str, Any] = {"name": "p", "namespace": "a", "uid": "u"}
    if creator is not None:
        meta["annotations"] = {CREATED_BY_ANNOTATION: creator.encode()}
    return meta


def test_a_schedule_child_carries_the_schedules_creator() -> None:
    spec = {"schedule": "@every 1m", "type": "PodChaos", "podChaos": POD_KILL}
    due = datetime(2026, 12, 4, tzinfo=UTC)
    child = child_manifest({"metadata": _meta(ALICE), "spec": spec}, due)
    assert recorded_creator(child) == ALICE
    assert len(child["metadata"]["annotations"]) == 2  # the scheduled time is kept beside it
    bare = child_manifest({"metadata": _meta(None), "spec": spec}, due)
    assert CREATED_BY_ANNOTATION not in bare["metadata"]["annotations"]


def test_every_experiment_fault_carries_the_experiments_creator() -> None:
    spec = ExperimentSpec.model_validate({
        "hypothesis": {"title": "t", "probes": [{"name": "w", "type": "http", "url": "http://w"}]},
        "faults": [
            {"name": "one", "type": "PodChaos", "podChaos": POD_KILL},
            {"name": "two", "type": "PodChaos", "podChaos": POD_KILL},
        ],
        "timing": {"faultDuration": "10s"},
    })  # fmt: skip
    children = child_manifests(spec, "a", "exp", "uid", ALICE)
    assert [recorded_creator(c) for c in children] == [ALICE, ALICE]
    assert all(recorded_creator(c) is None for c in child_manifests(spec, "a", "exp", "uid"))
