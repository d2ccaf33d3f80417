"""The Experiment's hypothesis as the dashboard API stores one (title, description, steady-state
criteria), so a run started with `kubectl apply` shows its hypothesis in the dashboard too.

Pure. The engine's tolerances are richer than the dashboard's criteria (a window, a recovery
counted from fault start), so the mapping keeps each bound and its probe and drops what the
dashboard cannot say; a tolerance with no dashboard equivalent is left out. The inverse of
`backend.api.experiment_manifest.tolerances`: a dashboard hypothesis that went to the cluster
comes back as the same criteria.
"""

from __future__ import annotations

from typing import Any

from backend.spec.experiment import ExperimentSpec, Tolerance
from chaosd.duration import parse_duration

METRICS = {
    "qps": "qps",
    "errorRate": "error_rate",
    "latencyP50": "latency_p50_ms",
    "latencyP99": "latency_p99_ms",
}
"""The engine's metric names -> the dashboard's."""
_MAX_BASELINE_S = 3600.0
_MAX_DEADLINE_S = 86400.0


def criterion(tol: Tolerance) -> dict[str, Any] | None:
    """One dashboard criterion for one tolerance, or None when the dashboard has no such bound
    (a floor above the baseline, a ceiling below it)."""
    metric = METRICS[tol.metric]
    if tol.recoverTo is not None:
        return {"metric": "qps", "max_drop_percent": 100 - tol.recoverTo}
    if tol.maxDropPercent is not None:
        return {"metric": metric, "max_drop_percent": tol.maxDropPercent}
    pct = tol.atLeastPercentOfBaseline
    if pct is not None:
        return {"metric": metric, "max_drop_percent": 100 - pct} if pct <= 100 else None
    pct = tol.atMostPercentOfBaseline
    if pct is not None:
        return {"metric": metric, "max_increase_percent": pct - 100} if pct >= 100 else None
    if tol.atLeast is not None:
        return {"metric": metric, "min": tol.atLeast}
    if tol.atMost is not None:
        return {"metric": metric, "max": tol.atMost}
    return None


def hypothesis_body(spec: ExperimentSpec) -> dict[str, Any] | None:
    """The body of `POST /hypotheses` for the spec's hypothesis; None when no tolerance maps
    (the API requires at least one criterion)."""
    hyp = spec.hypothesis
    criteria = [{"probe": t.probe, **c} for t in hyp.tolerances if (c := criterion(t)) is not None]
    if not criteria:
        return None
    deadlines = [parse_duration(t.within) for t in hyp.tolerances if t.within is not None]
    deadline = max(deadlines, default=parse_duration(spec.timing.recoveryDeadline))
    baseline = parse_duration(spec.timing.baseline)
    return {
        "title": hyp.title,
        "description": hyp.description,
        "steady_state": {
            "criteria": criteria,
            # The API bounds both; a longer engine timing is shown at the API's maximum.
            "baseline_seconds": min(max(baseline, 1.0), _MAX_BASELINE_S),
            "recovery_deadline_seconds": min(max(deadline, 1.0), _MAX_DEADLINE_S),
        },
    }


def _plain(v: Any) -> Any:
    """A JSON value without null members (the API returns unset bounds as null), numbers as
    floats, for comparing what the API holds with a body built here."""
    if isinstance(v, dict):
        return {k: _plain(x) for k, x in v.items() if x is not None}
    if isinstance(v, list):
        return [_plain(x) for x in v]
    if isinstance(v, int | float) and not isinstance(v, bool):
        return float(v)
    return v


def same_hypothesis(stored: dict[str, Any], body: dict[str, Any]) -> bool:
    """Whether a hypothesis the API returned says exactly what `body` says."""
    keys = ("title", "description", "steady_state")
    return all(_plain(stored.get(k)) == _plain(body.get(k)) for k in keys)
