"""Turns the run state and the measurements into the Experiment's status (a plain dict for a
merge patch), and reads the run state back from a status after an operator restart."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

from backend.domain.recovery import Sample
from backend.domain.verdict import NoBaseline, Outcome, ProbeResult, evaluate
from backend.experiment.machine import RunState, timeline
from backend.spec.experiment import (
    CriterionResult,
    ExperimentSpec,
    ExperimentStatus,
    PhaseTime,
    ProbeMetrics,
)


def _iso(t: float | None) -> datetime | None:
    return None if t is None else datetime.fromtimestamp(t, UTC)


def timestamp_of(d: Any) -> float | None:
    if d is None:
        return None
    if isinstance(d, str):
        d = datetime.fromisoformat(d.replace("Z", "+00:00"))
    return float(d.timestamp())


def state_of(status: dict[str, Any]) -> RunState:
    st = ExperimentStatus.model_validate(status or {})
    return RunState(
        phase=st.phase,
        start=timestamp_of(st.startTime),
        fault_start=timestamp_of(st.faultStartTime),
        fault_end=timestamp_of(st.faultEndTime),
        end=timestamp_of(st.endTime),
        verdict=st.verdict,
        message=st.message,
        verified=timestamp_of(st.faultsVerifiedTime),
    )


def _round(v: float | None, digits: int = 3) -> float | None:
    return None if v is None else round(v, digits)


def probe_metrics(name: str, n: int, res: ProbeResult) -> ProbeMetrics:
    m = res.metrics
    return ProbeMetrics(
        probe=name,
        samples=n,
        baselineQps=_round(res.baseline.median),
        baselineLow=_round(res.baseline.low),
        minQps=_round(m.min_qps),
        dipDepthPercent=_round(m.dip_depth_pct, 1),
        timeToImpactSeconds=_round(m.time_to_impact),
        dipDurationSeconds=_round(m.dip_duration),
        timeToRecoverFromStartSeconds=_round(m.time_to_recover_from_start),
        timeToRecoverFromEndSeconds=_round(m.time_to_recover_from_end),
        lostRequests=_round(m.lost_requests, 1),
        failedRequests=_round(m.failed_requests, 1),
        errorRateDuringFault=_round(res.error_rate_during_fault, 4),
    )


def judge(
    spec: ExperimentSpec, st: RunState, now: float, series: Mapping[str, Sequence[Sample]]
) -> tuple[RunState, list[ProbeMetrics], list[CriterionResult]]:
    """The verdict of a run that reached the Verdict phase (aborted runs keep their verdict)."""
    if st.fault_start is None:
        return st, [], []
    try:
        results, outcomes = evaluate(spec.hypothesis.tolerances, series, timeline(spec, st, now))
    except NoBaseline as e:
        # Never Passed or Failed against a missing or zero baseline; an abort stays an abort.
        if st.verdict is not None:
            return st, [], []
        return RunState(**{**st.__dict__, "verdict": "Error", "message": str(e)}), [], []
    metrics = [probe_metrics(n, len(series[n]), r) for n, r in results.items()]
    crits = [_criterion(o) for o in outcomes]
    if st.verdict is None:
        failed = [o.criterion for o in outcomes if not o.passed]
        verdict = "Failed" if failed else "Passed"
        msg = ("failed: " + "; ".join(failed)) if failed else "every tolerance held"
        st = RunState(**{**st.__dict__, "verdict": verdict, "message": msg})
    return st, metrics, crits


def _criterion(o: Outcome) -> CriterionResult:
    return CriterionResult(
        criterion=o.criterion[:1024],
        probe=o.probe,
        expected=o.expected[:1024],
        observed=o.observed[:1024],
        passed=o.passed,
    )


def render(
    st: RunState,
    previous: dict[str, Any],
    *,
    now: float,
    metrics: list[ProbeMetrics] | None = None,
    results: list[CriterionResult] | None = None,
    **extra: Any,
) -> dict[str, Any]:
    """The full status for `st`, keeping what an earlier write recorded (phase times, faults)."""
    old = ExperimentStatus.model_validate(previous or {})
    times = list(old.phaseTimes)
    if not times or times[-1].phase != st.phase:
        times.append(PhaseTime.model_validate({"phase": st.phase, "time": _iso(now)}))
    # Validated, not model_copy(update=...): `extra` holds JSON values (ISO times) to parse.
    out = ExperimentStatus.model_validate(
        {
            **old.model_dump(),
            "phase": st.phase,
            "verdict": st.verdict,
            "aborted": st.verdict == "Aborted",
            "startTime": _iso(st.start),
            "faultStartTime": _iso(st.fault_start),
            "faultEndTime": _iso(st.fault_end),
            "endTime": _iso(st.end),
            "faultsVerifiedTime": _iso(st.verified),
            "phaseTimes": times[-10:],
            "message": st.message,
            **({"metrics": metrics} if metrics is not None else {}),
            **({"results": results} if results is not None else {}),
            **extra,
        }
    )
    return out.model_dump(mode="json", exclude_none=True, by_alias=True)
