"""validate_manifest: valid manifests pass, each broken one is rejected naming its field."""

from __future__ import annotations

import copy
from typing import Any

import pytest
from spec_samples import INVALID, LOSS, POD_KILL, SCHEDULE, VALID, doc

from backend.spec import validate_manifest


@pytest.mark.parametrize("manifest", VALID, ids=lambda d: d["kind"])
def test_valid_manifests_have_no_errors(manifest: dict[str, Any]) -> None:
    assert validate_manifest(manifest) == []


@pytest.mark.parametrize(
    ("kind", "spec", "path", "phrase"), INVALID, ids=[f"{c[0]}:{c[2]}" for c in INVALID]
)
def test_invalid_manifest_names_the_field(
    kind: str, spec: dict[str, Any], path: str, phrase: str
) -> None:
    errors = validate_manifest(doc(kind, spec))
    assert [e.path for e in errors] == [path], errors
    assert phrase in errors[0].message


def test_messages_read_like_the_api_server() -> None:
    bad = copy.deepcopy(LOSS) | {"loss": {"loss": "150"}, "gracePeriod": 1}
    lines = sorted(str(e) for e in validate_manifest(doc("NetworkChaos", bad)))
    assert lines == [
        'spec.loss.loss: Invalid value: "string": must be a percentage between 0 and 100 '
        'written as a string, e.g. "25"',
        'unknown field "spec.gracePeriod"',
    ]


def test_type_errors_are_not_coerced() -> None:
    # The API server refuses `loss: 25` (a number where the schema says string): so do we.
    errors = validate_manifest(doc("NetworkChaos", {**LOSS, "loss": {"loss": 25}}))
    assert [str(e) for e in errors] == [
        'spec.loss.loss: Invalid value: "integer": spec.loss.loss in body must be of type '
        'string: "integer"'
    ]


def test_top_level_problems() -> None:
    chaos_mesh = doc("PodChaos", POD_KILL) | {"apiVersion": "chaos-mesh.org/v1alpha1"}
    [error] = validate_manifest(chaos_mesh)
    assert error.path == "apiVersion" and "chaos.faultline.dev/v1alpha1" in error.message
    errors = validate_manifest({"apiVersion": "chaos.faultline.dev/v1alpha1", "kind": "Nope"})
    assert [e.path for e in errors] == ["kind"]
    no_spec = doc("PodChaos", POD_KILL)
    del no_spec["spec"], no_spec["metadata"]
    assert [e.path for e in validate_manifest(no_spec)] == ["metadata.name", "spec"]
    assert [str(e) for e in validate_manifest([1])] == ["a manifest must be a mapping, got array"]


def test_spec_is_immutable_on_update_but_defaults_do_not_count() -> None:
    old = doc("NetworkChaos", LOSS)
    assert validate_manifest(doc("NetworkChaos", {**LOSS, "direction": "to"}), old=old) == []
    changed = doc("NetworkChaos", {**LOSS, "loss": {"loss": "50"}})
    [error] = validate_manifest(changed, old=old)
    assert error.path == "spec" and "immutable" in error.message


def test_schedule_spec_may_change() -> None:
    old = doc("Schedule", SCHEDULE)
    assert validate_manifest(doc("Schedule", {**SCHEDULE, "schedule": "@hourly"}), old=old) == []


def test_experiment_fault_names_must_be_unique() -> None:
    from spec_samples import EXPERIMENT

    spec = copy.deepcopy(EXPERIMENT)
    spec["faults"].append(copy.deepcopy(spec["faults"][0]))
    [error] = validate_manifest(doc("Experiment", spec))
    assert error.path == "spec.faults" and "name must be unique" in error.message
