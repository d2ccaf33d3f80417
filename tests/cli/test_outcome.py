"""Pure logic of the CLI: status -> exit code, status -> report rows, JUnit rendering, sparkline.

Statuses here are hand-written dicts shaped like the operator's; the cluster tests check the
same paths against real ones.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET

import pytest

from backend.cli.display import describe_progress, sparkline
from backend.cli.junit import render
from backend.cli.outcome import ExitCode, Outcome, cases, judge

REC = {"id": "shop/web-1", "phase": "Injected", "injectedCount": 1, "recoveredCount": 0}


def chaos(status: dict, duration: str | None = None) -> dict:
    spec = {"action": "partition"} | ({"duration": duration} if duration else {})
    return {
        "kind": "NetworkChaos",
        "metadata": {"name": "c", "namespace": "shop"},
        "spec": spec,
        "status": status,
    }


def experiment(status: dict) -> dict:
    return {"kind": "Experiment", "metadata": {"name": "e", "namespace": "shop"}, "status": status}


@pytest.mark.parametrize(
    ("status", "duration", "code"),
    [
        ({"phase": "Pending"}, None, None),
        ({"phase": "Running", "desiredTargets": 2, "injectedTargets": 1}, None, None),
        ({"phase": "Running", "desiredTargets": 1, "injectedTargets": 1}, None, ExitCode.PASSED),
        ({"phase": "Running", "desiredTargets": 1, "injectedTargets": 1}, "30s", None),
        ({"phase": "Failed", "message": "no pod matches"}, None, None),  # the operator retries
        ({"phase": "Finished", "records": [{**REC, "phase": "Recovered"}]}, "30s", ExitCode.PASSED),
        ({"phase": "Finished", "records": []}, "30s", ExitCode.ERROR),
        ({"phase": "Finished", "records": [{**REC, "injectedCount": 0}]}, "30s", ExitCode.ERROR),
    ],
)
def test_chaos_outcome(status: dict, duration: str | None, code: ExitCode | None) -> None:
    outcome = judge(chaos(status, duration))
    assert (outcome.code if outcome else None) == code


@pytest.mark.parametrize(
    ("status", "code"),
    [
        ({"phase": "Observing"}, None),
        ({"phase": "Verdict", "verdict": "Passed"}, None),  # results not written yet
        ({"phase": "Finished", "verdict": "Passed"}, ExitCode.PASSED),
        ({"phase": "Finished", "verdict": "Failed"}, ExitCode.FAILED),
        ({"phase": "Finished", "verdict": "Aborted", "aborted": True}, ExitCode.ABORTED),
        ({"phase": "Finished", "verdict": "Error", "message": "no baseline"}, ExitCode.ERROR),
        ({"phase": "Finished"}, ExitCode.ERROR),
    ],
)
def test_experiment_outcome(status: dict, code: ExitCode | None) -> None:
    outcome = judge(experiment(status))
    assert (outcome.code if outcome else None) == code


def test_abort_message_is_not_doubled() -> None:
    status = {"phase": "Finished", "verdict": "Aborted", "message": "aborted: qps below 50%"}
    assert judge(experiment(status)) == Outcome(ExitCode.ABORTED, "aborted: qps below 50%")


def test_junit_has_expected_and_observed_per_criterion(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FAULTLINE_DASHBOARD_URL", "https://fl.example/")
    results = [
        {
            "criterion": "web qps >= 80% of baseline during fault",
            "probe": "web",
            "expected": ">= 32.0 qps",
            "observed": "worst 0.0 qps",
            "passed": False,
        },
        {
            "criterion": "web errorRate <= 0.05 afterRecovery",
            "probe": "web",
            "expected": "<= 0.05",
            "observed": "0.0",
            "passed": True,
        },
    ]
    obj = experiment({"phase": "Finished", "verdict": "Failed", "results": results})
    rows = cases(obj)
    xml = ET.fromstring(render(obj, rows, Outcome(ExitCode.FAILED, "hypothesis failed"), 12.5))
    suite = xml.find("testsuite")
    assert suite is not None and suite.get("tests") == "2" and suite.get("failures") == "1"
    first, second = suite.findall("testcase")
    assert first.get("name") == "web qps >= 80% of baseline during fault"
    props = {p.get("name"): p.get("value") for p in first.iter("property")}
    assert props == {
        "expected": ">= 32.0 qps",
        "observed": "worst 0.0 qps",
        "dashboard": "https://fl.example/experiments/shop/e",
    }
    failure = first.find("failure")
    assert failure is not None
    assert failure.get("message") == "expected >= 32.0 qps, observed worst 0.0 qps"
    assert second.find("failure") is None


def test_chaos_cases_one_per_target() -> None:
    obj = chaos(
        {
            "records": [
                REC,
                {
                    **REC,
                    "id": "shop/web-2",
                    "injectedCount": 0,
                    "phase": "NotInjected",
                    "lastError": "pod not running",
                },
            ]
        }
    )
    first, second = cases(obj)
    assert first.passed and first.observed == "phase Injected, injected 1x, recovered 0x"
    assert not second.passed and second.message == "pod not running"


def test_sparkline_scales_between_min_and_max() -> None:
    assert sparkline([0, 5, 10]) == "▁▅█"
    assert sparkline([3, 3]) == "▁▁"
    assert sparkline([]) == ""


def test_progress_line_names_phase_and_targets() -> None:
    line = describe_progress(chaos({"phase": "Running", "desiredTargets": 2, "injectedTargets": 1}))
    assert line == "phase Running, injected 1/2"
    exp = experiment(
        {"phase": "Observing", "metrics": [{"probe": "web", "baselineQps": 40.0, "minQps": 3.0}]}
    )
    assert describe_progress(exp) == "phase Observing, web: baseline 40.0 qps, min 3.0 qps"
