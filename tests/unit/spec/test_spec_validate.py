"""validate_manifest: valid manifests pass, each broken one is rejected naming its field."""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest
from pydantic import ValidationError
from spec_samples import EXPERIMENT as EXPERIMENT_SPEC
from spec_samples import (
    EXTERNAL_TARGET_CASES,
    INVALID,
    LOSS,
    OFFLINE_INVALID,
    PARTITION,
    POD_KILL,
    SCHEDULE,
    VALID,
    doc,
)

from backend.spec import validate_manifest
from backend.spec.experiment import ProbeMetrics
from backend.spec.rules import SpecModel


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


@pytest.mark.parametrize(
    ("kind", "spec", "path", "phrase"),
    OFFLINE_INVALID,
    ids=[f"{c[0]}:{c[2]}:{i}" for i, c in enumerate(OFFLINE_INVALID)],
)
def test_checks_beyond_the_schema_name_the_field(
    kind: str, spec: dict[str, Any], path: str, phrase: str
) -> None:
    errors = validate_manifest(doc(kind, spec))
    assert [e.path for e in errors] == [path], errors
    assert phrase in errors[0].message


def test_a_bad_cron_is_reported_beside_other_problems() -> None:
    # The webhook denies with every problem at once, not the first one found.
    spec = {**SCHEDULE, "schedule": "61 * * * *", "concurrencyPolicy": "Replace"}
    lines = sorted(str(e) for e in validate_manifest(doc("Schedule", spec)))
    assert lines == [
        'spec.concurrencyPolicy: Unsupported value: "Replace": supported values: "Forbid", "Allow"',
        "spec.schedule: Invalid value: \"61 * * * *\": minute: '61' is outside 0-59",
    ]


@pytest.mark.parametrize(("target", "valid"), EXTERNAL_TARGET_CASES)
def test_external_targets_follow_kubernetes_ip_and_cidr_rules(target: str, valid: bool) -> None:
    errors = validate_manifest(doc("NetworkChaos", {**PARTITION, "externalTargets": [target]}))
    assert [e.path for e in errors] == ([] if valid else ["spec.externalTargets[0]"]), errors


def test_nan_from_a_json_body_is_a_field_error_not_a_crash() -> None:
    # Python's json module reads NaN and Infinity, which strict JSON (and the API server) refuses.
    spec = copy.deepcopy(EXPERIMENT_SPEC)
    spec["hypothesis"]["tolerances"] = [json.loads('{"probe": "qps", "atLeast": NaN}')]
    [error] = validate_manifest(doc("Experiment", spec))
    assert str(error) == (
        "spec.hypothesis.tolerances[0].atLeast: Invalid value: NaN: must be a finite number, "
        "not NaN or Infinity"
    )


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


def _all_models(cls: type[SpecModel]) -> list[type[SpecModel]]:
    return [cls, *(m for sub in cls.__subclasses__() for m in _all_models(sub))]


def test_no_model_lets_nan_or_infinity_in() -> None:
    # Status models too: the operator sends them to the API server as JSON, which has no NaN.
    models = _all_models(SpecModel)
    assert len(models) > 20
    assert [m.__name__ for m in models if m.model_config.get("allow_inf_nan") is not False] == []
    with pytest.raises(ValidationError) as caught:
        ProbeMetrics.model_validate({"probe": "web", "baselineQps": float("inf")})
    assert [e["loc"] for e in caught.value.errors()] == [("baselineQps",)]
