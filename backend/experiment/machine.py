"""The experiment's phase machine: one pure step from (state, clock, observations) to the next
state and the I/O the runner must do.

Everything that decides *when* to inject, remove the faults, abort or judge lives here, so it is
unit-tested with a fake clock, and the state is small enough to persist in the Experiment's
status (times are Unix seconds) - a restarted operator whose probe can replay its observations
carries on from there.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace

from backend.domain.recovery import Sample, baseline_of, smooth
from backend.domain.verdict import (
    SMOOTHING_SECONDS,
    NoBaseline,
    Timeline,
    abort_reason,
    baseline_problem,
    measure,
    relative_probes,
)
from backend.experiment.faults import Injection
from backend.spec.experiment import ExperimentSpec
from chaosd.duration import parse_duration

ACTIVE = ("Baseline", "Injecting", "Observing", "Recovering")


@dataclass(frozen=True)
class RunState:
    phase: str = "Pending"
    start: float | None = None
    fault_start: float | None = None
    fault_end: float | None = None
    end: float | None = None
    verdict: str | None = None
    message: str = ""
    verified: float | None = None
    """When every fault was seen in force (None until then)."""


@dataclass(frozen=True)
class Step:
    state: RunState
    create_faults: bool = False
    delete_faults: bool = False
    judge: bool = False
    """Compute the verdict from the series (the state's phase is Verdict)."""


def timeline(spec: ExperimentSpec, st: RunState, now: float) -> Timeline:
    assert st.start is not None and st.fault_start is not None
    return Timeline(
        start=st.start,
        fault_start=st.fault_start,
        fault_end=st.fault_end if st.fault_end is not None else now,
        end=st.end if st.end is not None else now,
        observe_after=parse_duration(spec.timing.observeAfter),
        hold=parse_duration(spec.timing.recoveryHold),
    )


def _stop(st: RunState, now: float, verdict: str, message: str, **io: bool) -> Step:
    done = replace(st, phase="Verdict", end=now, verdict=verdict, message=message)
    return Step(done, **io)


def _baselines(series: Mapping[str, Sequence[Sample]], st: RunState) -> dict[str, float]:
    assert st.start is not None and st.fault_start is not None
    out = {}
    for name, samples in series.items():
        try:
            smoothed = smooth(samples, SMOOTHING_SECONDS)
            out[name] = baseline_of(smoothed, st.start, st.fault_start).median
        except ValueError:
            out[name] = 0.0
    return out


def step(
    spec: ExperimentSpec,
    st: RunState,
    now: float,
    series: Mapping[str, Sequence[Sample]],
    probe_errors: dict[str, str],
    injections: Mapping[str, Injection] | None = None,
) -> Step:
    """`injections`: what each child chaos object's status says (by child name); None while
    the runner has not looked (the run then stays in Observing until it has)."""
    timing = spec.timing
    if st.phase == "Pending":
        return Step(replace(st, phase="Baseline", start=now))
    if st.phase == "Baseline":
        assert st.start is not None
        if probe_errors:
            return _stop(st, now, "Error", "probe failed before injection: " + _join(probe_errors))
        if now - st.start < parse_duration(timing.baseline):
            return Step(st)
        silent = [n for n, s in series.items() if not any(x.t >= st.start for x in s)]
        if silent:
            return _stop(st, now, "Error", f"no baseline: probe {', '.join(silent)} was silent")
        # A zero baseline is caught here, before any fault: judging against it means nothing.
        relative = relative_probes(spec.hypothesis.tolerances)
        problems = [
            p
            for n, s in series.items()
            if (p := baseline_problem(n, s, st.start, now, n in relative))
        ]
        if problems:
            return _stop(st, now, "Error", "; ".join(problems))
        return Step(replace(st, phase="Injecting", fault_start=now), create_faults=True)
    if st.phase == "Injecting":
        return Step(replace(st, phase="Observing"))
    if st.phase == "Observing":
        assert st.fault_start is not None
        fault_start = st.fault_start
        if spec.abort.onProbeError and probe_errors:
            reason = "aborted: probe failed: " + _join(probe_errors)
            return _stop(st, now, "Aborted", reason, delete_faults=True)
        fired = abort_reason(spec.abort.conditions, series, _baselines(series, st), st.fault_start)
        if fired:
            return _stop(st, now, "Aborted", f"aborted: {fired}", delete_faults=True)
        if st.verified is None:
            missing = {k: v for k, v in (injections or {}).items() if not v.verified}
            if injections is not None and not missing:
                st = replace(st, verified=now)
            elif now - fault_start >= parse_duration(timing.injectionTimeout):
                why = _join({k: v.problem for k, v in missing.items()}) or "not checked"
                timeout = timing.injectionTimeout
                message = f"the faults were not verified in force within {timeout}: {why}"
                return _stop(st, now, "Error", message, delete_faults=True)
            else:
                # Never leave Observing (and so never judge) before every fault was seen in
                # force: a fault that was not injected must not pass as a service that coped.
                return Step(st)
        if now - fault_start < parse_duration(timing.faultDuration):
            return Step(st)
        return Step(replace(st, phase="Recovering", fault_end=now), delete_faults=True)
    if st.phase == "Recovering":
        assert st.fault_end is not None
        if spec.abort.onProbeError and probe_errors:
            # The faults are gone already; a series that stopped cannot show whether the
            # service recovered, and judging the gap would fail a service that may be fine.
            return _stop(st, now, "Error", "probe failed while recovering: " + _join(probe_errors))
        deadline = now - st.fault_end >= parse_duration(timing.recoveryDeadline)
        if deadline or _all_recovered(spec, st, now, series):
            return Step(replace(st, phase="Verdict", end=now), judge=True)
        return Step(st)
    return Step(st)


def _all_recovered(
    spec: ExperimentSpec, st: RunState, now: float, series: Mapping[str, Sequence[Sample]]
) -> bool:
    tl = timeline(spec, st, now)
    for name, samples in series.items():
        targets = [t.recoverTo for t in spec.hypothesis.tolerances if t.probe == name]
        percent = max((t for t in targets if t is not None), default=90.0)
        try:
            res = measure(smooth(samples, SMOOTHING_SECONDS), tl, percent)
        except NoBaseline:
            return False
        if res.metrics.recovered_at is None:
            return False
    return True


def _join(errors: dict[str, str]) -> str:
    return "; ".join(f"{k}: {v}" for k, v in sorted(errors.items()))
