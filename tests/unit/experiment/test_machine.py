"""The phase machine with a fake clock: when it injects, removes the faults, aborts and judges."""

from __future__ import annotations

from backend.domain.recovery import Sample
from backend.experiment.faults import Injection
from backend.experiment.machine import RunState, step
from backend.spec.experiment import ExperimentSpec

DT = 0.2


def spec(**abort: object) -> ExperimentSpec:
    return ExperimentSpec.model_validate(
        {
            "hypothesis": {
                "title": "t",
                "probes": [{"name": "web", "type": "load", "url": "http://web/", "rate": 50}],
                "tolerances": [{"probe": "web", "recoverTo": 90, "within": "30s"}],
            },
            "faults": [
                {
                    "name": "kill",
                    "type": "PodChaos",
                    "podChaos": {"action": "pod-kill", "mode": "one", "selector": {}},
                }
            ],
            "timing": {"baseline": "10s", "faultDuration": "10s", "recoveryDeadline": "30s"},
            "abort": abort or {},
        }
    )


IN_FORCE = {"chaos-kill": Injection(True)}


def run(sp: ExperimentSpec, qps_at, until: float, errors_at=lambda t: {}, injections=IN_FORCE):
    """Step once a second from t=0 with samples every 200 ms; returns (phase log, I/O log)."""
    st = RunState()
    phases, io = [], []
    t = 0.0
    while t <= until and st.phase != "Verdict":
        n = round(t / DT)
        series = {"web": [Sample(i * DT, qps_at(i * DT), requests=10) for i in range(n + 1)]}
        out = step(sp, st, t, series, errors_at(t), injections)
        if out.create_faults:
            io.append(("create", t))
        if out.delete_faults:
            io.append(("delete", t))
        if out.state.phase != st.phase:
            phases.append((out.state.phase, t))
        st = out.state
        t += 1.0
    return st, phases, io


def healthy(t: float) -> float:
    return 50.0


def test_full_cycle_times_every_phase() -> None:
    st, phases, io = run(spec(), healthy, 120)
    assert [p for p, _ in phases] == ["Baseline", "Injecting", "Observing", "Recovering", "Verdict"]
    assert io == [("create", 10.0), ("delete", 20.0)]
    assert (st.start, st.fault_start, st.fault_end) == (0.0, 10.0, 20.0)
    # Never dipped: recovered at once, so the verdict comes right after the faults are gone.
    assert st.end == 21.0 and st.verdict is None


def test_recovery_waits_for_the_kpi_then_the_deadline() -> None:
    def slow(t: float) -> float:
        return 5.0 if 12 <= t < 30 else 50.0

    st, _, _ = run(spec(), slow, 200)
    assert 33 <= st.end <= 35  # back at 30 s, plus the 3 s hold
    never = run(spec(), lambda t: 50.0 if t < 12 else 0.0, 200)[0]
    assert never.end == 20.0 + 30.0  # the recovery deadline


def test_abort_removes_faults_before_the_fault_window_ends() -> None:
    sp = spec(conditions=[{"probe": "web", "belowPercent": 50, "for": "2s"}])
    st, _, io = run(sp, lambda t: 50.0 if t < 12 else 0.0, 200)
    assert st.verdict == "Aborted" and "qps below 50%" in st.message
    assert io == [("create", 10.0), ("delete", st.end)]
    assert st.end is not None and st.end < 20 and st.fault_end is None


def test_probe_error_aborts_only_when_asked() -> None:
    def err(t: float) -> dict[str, str]:
        return {"web": "no observations for 9s"} if t >= 13 else {}

    st, _, io = run(spec(), healthy, 200, err)
    assert st.verdict == "Aborted" and st.end == 13.0 and io[-1] == ("delete", 13.0)
    st, _, _ = run(spec(onProbeError=False), healthy, 200, err)
    assert st.verdict is None  # carried on to a normal verdict


def test_silent_probe_is_an_error_before_injection() -> None:
    sp = spec()
    st = RunState(phase="Baseline", start=0.0)
    out = step(sp, st, 10.0, {"web": []}, {})
    assert out.state.verdict == "Error" and not out.create_faults
    assert "no baseline" in out.state.message


def test_a_fault_never_in_force_is_an_error_never_a_pass() -> None:
    missing = {"chaos-kill": Injection(False, "no target matched the selector")}
    st, phases, io = run(spec(), healthy, 200, injections=missing)
    assert st.verdict == "Error" and st.end == 10.0 + 30.0  # the default injectionTimeout
    assert "no target matched the selector" in st.message and "within 30s" in st.message
    assert io == [("create", 10.0), ("delete", 40.0)]  # whatever half-happened is removed
    assert "Recovering" not in [p for p, _ in phases]


def test_observing_waits_for_a_late_injection_before_judging() -> None:
    sp = spec()
    sp.timing.faultDuration = "2s"
    st = RunState(phase="Observing", start=0.0, fault_start=10.0)
    series = {"web": [Sample(i * DT, 50.0, requests=10) for i in range(80)]}
    late = {"chaos-kill": Injection(False, "not injected yet")}
    out = step(sp, st, 15.0, series, {}, late)  # past faultDuration, not yet verified
    assert out.state.phase == "Observing" and not out.delete_faults
    out = step(sp, out.state, 16.0, series, {}, {"chaos-kill": Injection(True)})
    assert out.state.verified == 16.0 and out.state.phase == "Recovering" and out.delete_faults


def test_a_probe_that_goes_silent_while_recovering_is_an_error_not_a_failure() -> None:
    def err(t: float) -> dict[str, str]:
        return {"web": "no observations for 6s"} if t >= 22 else {}

    st, _, io = run(spec(), lambda t: 50.0 if t < 12 else 0.0, 200, err)
    assert st.verdict == "Error" and st.end == 22.0 and "while recovering" in st.message
    assert io == [("create", 10.0), ("delete", 20.0)]  # removed once, at the end of the window


def test_a_zero_baseline_is_an_error_before_injection() -> None:
    """Every baseline request failed: the run ends with Error and no fault is ever created."""
    st, phases, io = run(spec(), lambda t: 0.0, 200)
    assert st.verdict == "Error" and io == [] and phases[-1] == ("Verdict", 10.0)
    assert st.message.startswith("probe web had no successful request during the baseline: ")
