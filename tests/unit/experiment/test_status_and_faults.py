"""Child chaos manifests, the status rendering and its round trip through a restart."""

from __future__ import annotations

import pytest

from backend.domain.recovery import Sample
from backend.experiment.faults import child_manifests
from backend.experiment.machine import RunState
from backend.experiment.runner import EngineSettings, ExperimentRef, make_sources
from backend.experiment.sources import JobSource
from backend.experiment.status import judge, render, state_of
from backend.spec import validate_manifest
from backend.spec.experiment import ExperimentSpec, ExperimentStatus

SPEC = ExperimentSpec.model_validate(
    {
        "hypothesis": {
            "title": "t",
            "probes": [{"name": "web", "type": "load", "url": "http://web/"}],
            "tolerances": [
                {"probe": "web", "recoverTo": 90, "within": "5s", "from": "faultStart"},
                {"probe": "web", "atLeastPercentOfBaseline": 80},
            ],
        },
        "faults": [
            {
                "name": "cut",
                "type": "NetworkChaos",
                "networkChaos": {
                    "action": "partition",
                    "mode": "all",
                    "selector": {"labelSelectors": {"app": "web"}},
                    "externalTargets": ["10.244.0.1"],
                },
            }
        ],
        "timing": {"baseline": "10s", "faultDuration": "15s"},
    }
)


def test_children_are_owned_valid_and_carry_the_fault_duration() -> None:
    [m] = child_manifests(SPEC, "ns", "exp", "uid-1")
    assert m["metadata"]["name"] == "exp-cut" and m["metadata"]["namespace"] == "ns"
    [owner] = m["metadata"]["ownerReferences"]
    assert (owner["kind"], owner["uid"], owner["controller"]) == ("Experiment", "uid-1", True)
    assert m["spec"]["duration"] == "45s"  # faultDuration 15s + the default injectionTimeout
    assert validate_manifest(m) == []


def test_judge_fails_a_deep_slow_dip_and_renders_results() -> None:
    series = {"web": [Sample(i * 0.2, 10.0 if 11 <= i * 0.2 < 20 else 100.0) for i in range(200)]}
    st = RunState(phase="Verdict", start=0, fault_start=10, fault_end=25, end=39.8)
    st, metrics, results = judge(SPEC, st, 39.8, series)
    assert st.verdict == "Failed"
    assert [r.passed for r in results] == [False, False]
    assert metrics[0].baselineQps == 100 and metrics[0].minQps == 10
    assert metrics[0].dipDepthPercent == 90
    out = render(st, {}, now=40, metrics=metrics, results=results)
    assert out["verdict"] == "Failed" and out["results"][0]["expected"] == "<= 5s"
    assert ExperimentStatus.model_validate(out).metrics[0].probe == "web"


def test_state_survives_a_round_trip_through_the_status() -> None:
    st = RunState(phase="Observing", start=1000.5, fault_start=1010.25)
    out = render(
        st, {"phaseTimes": [{"phase": "Baseline", "time": "2026-01-01T00:00:00Z"}]}, now=1011
    )
    assert [p["phase"] for p in out["phaseTimes"]] == ["Baseline", "Observing"]
    assert state_of(out) == st


def test_probe_job_runs_the_probe_command_owned_by_the_experiment() -> None:
    cfg = EngineSettings(probe_mode="job", probe_image="faultline.local/faultline:0.1.0")
    [src] = make_sources(ExperimentRef("ns", "exp", "abcdef-123"), SPEC, cfg)
    assert isinstance(src, JobSource) and src.name == "exp-probe-web-abcde"
    job = src.manifest
    assert job["metadata"]["ownerReferences"][0]["uid"] == "abcdef-123"
    [c] = job["spec"]["template"]["spec"]["containers"]
    assert c["image"] == "faultline.local/faultline:0.1.0"
    assert c["command"] == ["python", "-m", "backend.probes.run"]
    assert '"type": "load"' in c["args"][1] and job["spec"]["backoffLimit"] == 0


def test_bad_probe_mode_names_the_variable() -> None:
    with pytest.raises(ValueError, match="FAULTLINE_PROBE_MODE: must be job or local"):
        EngineSettings(probe_mode="pod")


def test_injection_is_verified_only_by_an_applied_target() -> None:
    from backend.experiment.faults import injection_of

    applied = {"status": {"records": [{"id": "ns/a", "injectedCount": 1, "phase": "Recovered"}]}}
    assert injection_of(applied).verified
    none = {
        "status": {
            "phase": "Pending",
            "records": [],
            "conditions": [{"type": "Selected", "status": "False", "reason": "NoTargets"}],
        }
    }
    assert injection_of(none) == injection_of(none).__class__(
        False, "no target matched the selector"
    )
    refused = {"status": {"records": [{"id": "ns/a", "lastError": "chaosd: nft: EPERM"}]}}
    assert not injection_of(refused).verified
    assert "chaosd: nft: EPERM" in injection_of(refused).problem
    assert injection_of({}).problem == "not reconciled by the operator yet"
    assert injection_of(None).problem == "the chaos object is gone"


def test_judge_gives_error_never_pass_against_a_zero_baseline() -> None:
    """The baseline failed outright and so did the fault window: against a baseline of 0 both
    tolerances would hold, so the verdict must be Error, with the reason, and no results."""
    series = {"web": [Sample(i * 0.2, 0.0, 1.0, requests=5) for i in range(200)]}
    st = RunState(phase="Verdict", start=0, fault_start=10, fault_end=25, end=39.8)
    judged, metrics, results = judge(SPEC, st, 39.8, series)
    assert judged.verdict == "Error" and metrics == [] and results == []
    assert judged.message.startswith("probe web had no successful request during the baseline")
    aborted = RunState(**{**st.__dict__, "verdict": "Aborted", "message": "aborted: x"})
    assert judge(SPEC, aborted, 39.8, series)[0] == aborted  # an abort keeps its verdict
