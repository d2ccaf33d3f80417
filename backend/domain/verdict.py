"""The verdict of an experiment: every tolerance of its hypothesis evaluated over the observed
series, and the abort conditions checked while the fault is in force.

Pure functions over `recovery.Sample` series (times in seconds, any origin) so the same code
judges a live run in the operator and a synthetic series in a unit test with a known answer.
Series are smoothed over one second first: a 200 ms interval that happened to finish few
requests is noise, not an outage.
"""

from __future__ import annotations

import statistics
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from functools import partial

from backend.domain.recovery import (
    Baseline,
    RecoveryMetrics,
    Sample,
    baseline_of,
    recovery_metrics,
    smooth,
)
from backend.spec.experiment import AbortCondition, Tolerance
from chaosd.duration import parse_duration

SMOOTHING_SECONDS = 1.0
_EPS = 1e-6  # sample times are sums of float intervals
_SHARPEN_SAMPLES = 3
DEFAULT_RECOVER_PERCENT = 90.0
"""Recovery target used for the metrics and `afterRecovery` windows when no recoverTo is set."""


@dataclass(frozen=True)
class Timeline:
    start: float
    """Baseline start."""
    fault_start: float
    fault_end: float
    end: float
    observe_after: float = 0.0
    hold: float = 3.0


@dataclass(frozen=True)
class Outcome:
    criterion: str
    probe: str
    expected: str
    observed: str
    passed: bool


@dataclass(frozen=True)
class ProbeResult:
    baseline: Baseline
    metrics: RecoveryMetrics
    """Dip and recovery; `recovered_at` sharpened on the raw series when one was given."""
    error_rate_during_fault: float | None
    settled_at: float | None = None
    """When the smoothed series was back: where `afterRecovery` windows begin, because the
    smoothed values before it still average in the end of the outage."""


class NoBaseline(ValueError):
    """A probe had no samples, or no successful request, before the fault: nothing to compare
    against, so the run ends with Error rather than a Passed or Failed that would mean nothing."""


_VALUE: dict[str, Callable[[Sample], float | None]] = {
    "qps": lambda s: s.qps,
    "errorRate": lambda s: s.error_rate,
    "latencyP50": lambda s: s.latency_p50_ms,
    "latencyP99": lambda s: s.latency_p99_ms,
}


def _recover_percent(tolerances: Sequence[Tolerance], probe: str) -> float:
    targets = [t.recoverTo for t in tolerances if t.probe == probe and t.recoverTo is not None]
    return max(targets) if targets else DEFAULT_RECOVER_PERCENT


def _error_rate(samples: Sequence[Sample]) -> float | None:
    if not samples:
        return None
    reqs = sum(s.requests for s in samples)
    if reqs:
        return sum(s.error_rate * s.requests for s in samples) / reqs
    return statistics.fmean(s.error_rate for s in samples)


def relative_probes(tolerances: Sequence[Tolerance]) -> set[str]:
    """The probes whose QPS is judged against its baseline (a percentage of it, a drop from it,
    a recovery to it): only for them does a zero baseline make the hypothesis meaningless. A
    metric probe whose value is legitimately 0 (an error counter) with absolute bounds is fine."""
    relative = ("atLeastPercentOfBaseline", "atMostPercentOfBaseline", "maxDropPercent")
    return {
        t.probe
        for t in tolerances
        if t.recoverTo is not None
        or (t.metric == "qps" and any(getattr(t, f) is not None for f in relative))
    }


def baseline_problem(
    name: str, samples: Sequence[Sample], start: float, end: float, relative: bool = True
) -> str | None:
    """Why the baseline window [start, end) of probe `name` cannot be judged against, or None.
    A probe with no samples at all never can; a zero QPS baseline matters only when the probe is
    judged `relative` to it (`relative_probes`).

    A baseline whose QPS is 0 (every request failed, or none finished) turns every relative
    tolerance into `>= 0`, which any outage passes, and every recovery into an instant one: the
    hypothesis cannot be judged, so this is an Error, never a Passed or a Failed. `qps` counts
    successful requests (a load probe) or is the metric's value; a sample with error rate 1
    succeeded at nothing either way.
    """
    window = [s for s in samples if start <= s.t < end]
    if not window:
        return (
            f"probe {name} had no successful request during the baseline: no samples in its "
            f"{end - start:.0f}s"
        )
    if not relative:
        return None
    ok = sum(1 for s in window if s.qps > 0 and s.error_rate < 1)
    why = "the hypothesis cannot be judged against a zero baseline"
    if not ok:
        rate = _error_rate(window) or 0.0
        return (
            f"probe {name} had no successful request during the baseline: QPS 0 in all "
            f"{len(window)} samples over {end - start:.0f}s, error rate {rate:.0%}; {why}"
        )
    median = baseline_of(smooth(samples, SMOOTHING_SECONDS), start, end).median
    if median <= 0:
        return (
            f"probe {name} had a baseline QPS of 0: only {ok} of {len(window)} samples had a "
            f"successful request; {why}"
        )
    return None


def measure(
    samples: Sequence[Sample],
    tl: Timeline,
    recover_percent: float = DEFAULT_RECOVER_PERCENT,
    raw: Sequence[Sample] | None = None,
) -> ProbeResult:
    """Baseline, dip and recovery of one probe's series (already smoothed). With the `raw`
    series the recovery instant is sharpened to the interval where QPS really came back."""
    try:
        base = baseline_of(samples, tl.start, tl.fault_start)
    except ValueError as e:
        raise NoBaseline(str(e)) from e
    metrics = recovery_metrics(
        [s for s in samples if s.t <= tl.end],
        baseline=base,
        fault_start=tl.fault_start,
        fault_end=tl.fault_end,
        recover_ratio=recover_percent / 100,
        hold=tl.hold,
    )
    settled = metrics.recovered_at
    if raw is not None and settled is not None:
        at = sharpen(raw, settled, recover_percent / 100 * base.median, tl.fault_start)
        metrics = replace(
            metrics,
            recovered_at=at,
            time_to_recover_from_start=at - tl.fault_start,
            time_to_recover_from_end=max(0.0, at - tl.fault_end),
        )
    during = [s for s in samples if tl.fault_start <= s.t < tl.fault_end]
    return ProbeResult(base, metrics, _error_rate(during), settled)


def sharpen(raw: Sequence[Sample], settled: float, threshold: float, not_before: float) -> float:
    """When QPS really came back, from the raw intervals in the smoothing window before the
    instant `settled` at which the smoothed series was back.

    A trailing mean over SMOOTHING_SECONDS only reaches 90 % of the baseline about 0.9 s after a
    step back to normal, so the smoothed recovery instant is late by up to a window. The answer
    is the earliest raw interval in that window that is at or above `threshold` and whose mean
    with the next intervals (_SHARPEN_SAMPLES in all) is too: the mean, so one noisy interval
    does not hide the recovery, while one interval still in the outage pulls it below. A
    sample's time is the end of its interval, so the recovery began where that interval began."""
    ordered = sorted(raw, key=lambda s: s.t)
    window = [
        i
        for i, s in enumerate(ordered)
        if settled - SMOOTHING_SECONDS - _EPS < s.t <= settled + _EPS and s.t > not_before
    ]
    for n, i in enumerate(window):
        ahead = [ordered[j].qps for j in window[n : n + _SHARPEN_SAMPLES]]
        if ordered[i].qps >= threshold and statistics.fmean(ahead) >= threshold:
            width = ordered[i].t - ordered[i - 1].t if i > 0 else 0.0
            return max(not_before, min(settled, ordered[i].t - width))
    return settled


def _window(
    samples: Sequence[Sample], tol: Tolerance, tl: Timeline, res: ProbeResult
) -> list[Sample]:
    if tol.during == "fault":
        lo, hi = tl.fault_start + tl.observe_after, tl.fault_end
    elif tol.during == "whole":
        lo, hi = tl.fault_start, tl.end
    else:
        if res.settled_at is None:
            return []
        lo, hi = res.settled_at, tl.end
    return [s for s in samples if lo <= s.t <= hi]


def _baseline_value(samples: Sequence[Sample], metric: str, tl: Timeline) -> float:
    get = _VALUE[metric]
    values = [v for s in samples if tl.start <= s.t < tl.fault_start if (v := get(s)) is not None]
    return statistics.median(values) if values else 0.0


def _fmt(v: float) -> str:
    return f"{v:.4g}"


def describe(tol: Tolerance) -> str:
    """The tolerance in words, e.g. "web qps >= 50% of baseline during fault"."""
    what = f"{tol.probe} {tol.metric}"
    if tol.recoverTo is not None:
        pct = _fmt(tol.recoverTo)
        return f"{tol.probe} qps back to {pct}% of baseline within {tol.within} of {tol.from_}"
    if tol.atLeastPercentOfBaseline is not None:
        bound = f">= {_fmt(tol.atLeastPercentOfBaseline)}% of baseline"
    elif tol.maxDropPercent is not None:
        bound = f">= {_fmt(100 - tol.maxDropPercent)}% of baseline"
    elif tol.atMostPercentOfBaseline is not None:
        bound = f"<= {_fmt(tol.atMostPercentOfBaseline)}% of baseline"
    elif tol.atLeast is not None:
        bound = f">= {_fmt(tol.atLeast)}"
    else:
        bound = f"<= {_fmt(tol.atMost or 0.0)}"
    return f"{what} {bound} during {tol.during}"


def _recovery_outcome(tol: Tolerance, res: ProbeResult) -> Outcome:
    within = parse_duration(tol.within or "0s")
    m = res.metrics
    took = m.time_to_recover_from_start if tol.from_ == "faultStart" else m.time_to_recover_from_end
    observed = "never recovered" if took is None else f"recovered after {took:.1f}s"
    return Outcome(
        describe(tol), tol.probe, f"<= {within:g}s", observed, took is not None and took <= within
    )


def evaluate_one(
    tol: Tolerance, samples: Sequence[Sample], tl: Timeline, res: ProbeResult
) -> Outcome:
    if tol.recoverTo is not None:
        return _recovery_outcome(tol, res)
    window = _window(samples, tol, tl, res)
    name = describe(tol)
    if not window:
        why = "never recovered" if tol.during == "afterRecovery" else "no samples in the window"
        return Outcome(name, tol.probe, name.split(" ", 2)[2], why, False)
    base = res.baseline.median if tol.metric == "qps" else _baseline_value(samples, tol.metric, tl)
    get = _VALUE[tol.metric]
    values = [v for s in window if (v := get(s)) is not None]
    at_least_pct = tol.atLeastPercentOfBaseline
    if tol.maxDropPercent is not None:
        at_least_pct = 100 - tol.maxDropPercent
    if tol.metric == "errorRate":
        observed = _error_rate(window) or 0.0
    elif at_least_pct is not None or tol.atLeast is not None:
        observed = min(values) if values else 0.0
    else:
        observed = max(values) if values else 0.0
    if at_least_pct is not None:
        limit = at_least_pct / 100 * base
        ok = observed >= limit
        expected = f">= {_fmt(limit)} ({_fmt(at_least_pct)}% of baseline {_fmt(base)})"
    elif tol.atMostPercentOfBaseline is not None:
        limit = tol.atMostPercentOfBaseline / 100 * base
        ok = observed <= limit
        pct = _fmt(tol.atMostPercentOfBaseline)
        expected = f"<= {_fmt(limit)} ({pct}% of baseline {_fmt(base)})"
    elif tol.atLeast is not None:
        ok, expected = observed >= tol.atLeast, f">= {_fmt(tol.atLeast)}"
    else:
        limit = tol.atMost if tol.atMost is not None else 0.0
        ok, expected = observed <= limit, f"<= {_fmt(limit)}"
    kind = "worst" if tol.metric != "errorRate" else "overall"
    return Outcome(name, tol.probe, expected, f"{kind} {_fmt(observed)}", ok)


def evaluate(
    tolerances: Sequence[Tolerance], series: Mapping[str, Sequence[Sample]], tl: Timeline
) -> tuple[dict[str, ProbeResult], list[Outcome]]:
    """Measure every probe and judge every tolerance. Raises NoBaseline for a probe with no
    samples or no successful request in the baseline window (`baseline_problem`)."""
    relative = relative_probes(tolerances)
    for name, raw in series.items():
        if problem := baseline_problem(name, raw, tl.start, tl.fault_start, name in relative):
            raise NoBaseline(problem)
    smoothed = {name: smooth(s, SMOOTHING_SECONDS) for name, s in series.items()}
    results = {
        name: measure(s, tl, _recover_percent(tolerances, name), series[name])
        for name, s in smoothed.items()
    }
    outcomes = [evaluate_one(t, smoothed[t.probe], tl, results[t.probe]) for t in tolerances]
    return results, outcomes


def _below(s: Sample, limit: float) -> bool:
    return s.qps < limit


def _errors_above(s: Sample, ceiling: float) -> bool:
    return s.error_rate > ceiling


def abort_reason(
    conditions: Sequence[AbortCondition],
    series: Mapping[str, Sequence[Sample]],
    baselines: dict[str, float],
    since: float,
) -> str | None:
    """The first abort condition that has held for its `for` duration up to the latest sample."""
    for c in conditions:
        samples = [s for s in smooth(series.get(c.probe, []), SMOOTHING_SECONDS) if s.t >= since]
        if not samples:
            continue
        bad: Callable[[Sample], bool]
        if c.belowPercent is not None:
            limit = c.belowPercent / 100 * baselines.get(c.probe, 0.0)
            bad = partial(_below, limit=limit)
            what = f"{c.probe} qps below {_fmt(c.belowPercent)}% of baseline ({_fmt(limit)})"
        else:
            ceiling = c.errorRateAbove or 0.0
            bad = partial(_errors_above, ceiling=ceiling)
            what = f"{c.probe} error rate above {_fmt(ceiling)}"
        run_start = None
        for s in reversed(samples):
            if not bad(s):
                break
            run_start = s.t
        if run_start is None:
            continue
        held = samples[-1].t - run_start
        if held >= parse_duration(c.for_):
            return f"{what} for {held:.1f}s"
    return None
