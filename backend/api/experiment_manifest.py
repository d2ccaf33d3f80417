"""Turns a dashboard experiment (its spec and its hypothesis) into the spec of an Experiment
custom resource, so "Start run" in the dashboard runs the same engine as `kubectl apply`.

The dashboard's hypothesis speaks of steady-state criteria relative to the baseline ("QPS falls
at most 30 %, and is back within 60 s of the fault ending"); the engine speaks of tolerances on
a probe. Pure: the result is checked against the CRD schema by the cluster gateway before
anything is sent, so a bad spec comes back as a 422 naming the field.
"""

from __future__ import annotations

from typing import Any

from backend.api.errors import ClusterRejected

METRICS = {
    "qps": "qps",
    "error_rate": "errorRate",
    "latency_p50_ms": "latencyP50",
    "latency_p99_ms": "latencyP99",
}
"""Dashboard metric names -> the engine's."""


def _seconds(value: float) -> str:
    return f"{value:g}s"


def tolerances(
    criteria: list[dict[str, Any]], default_probe: str, deadline_s: float
) -> list[dict[str, Any]]:
    """One tolerance per bound of each criterion (the engine takes exactly one bound each).

    A QPS drop limit becomes a recovery target: back to (100 - drop) % of the baseline within
    the recovery deadline of the fault ending, which is what the dashboard's hypothesis says.
    Every other bound is judged once the service has recovered. A criterion without a probe
    judges `default_probe`."""
    out: list[dict[str, Any]] = []
    for c in criteria:
        probe = str(c.get("probe") or default_probe)
        metric = METRICS.get(str(c.get("metric")), "qps")
        after = {"probe": probe, "metric": metric, "during": "afterRecovery"}
        drop = c.get("max_drop_percent")
        if drop is not None and metric == "qps" and drop < 100:
            out.append({"probe": probe, "recoverTo": 100 - drop, "within": _seconds(deadline_s)})
        elif drop is not None:
            out.append({**after, "maxDropPercent": drop})
        if c.get("max_increase_percent") is not None:
            out.append({**after, "atMostPercentOfBaseline": 100 + c["max_increase_percent"]})
        if c.get("min") is not None:
            out.append({**after, "atLeast": c["min"]})
        if c.get("max") is not None:
            out.append({**after, "atMost": c["max"]})
    return out


def experiment_spec(
    where: str, spec: dict[str, Any], hypothesis: dict[str, Any] | None
) -> dict[str, Any]:
    """The Experiment CR spec for dashboard experiment `where` (namespace/name).

    `spec` holds the faults and timing as in the CR, plus `probes` (the CR's
    `hypothesis.probes`); tolerances written in `spec.hypothesis` are kept as they are."""
    given = dict(spec.get("hypothesis") or {})
    probes = spec.get("probes") or given.get("probes") or []
    if not probes:
        raise ClusterRejected(
            f"experiment {where} cannot start: spec.probes is empty; add a probe that measures "
            "the service, e.g. probes: [{name: web, type: load, url: http://web.shop/}]"
        )
    if hypothesis is None and not given.get("tolerances"):
        raise ClusterRejected(
            f"experiment {where} cannot start: it has no hypothesis; attach one (hypothesis_id) "
            "so the run has criteria to judge"
        )
    steady = (hypothesis or {}).get("steady_state") or {}
    deadline = float(steady.get("recovery_deadline_seconds", 60))
    timing = {
        "baseline": _seconds(float(steady.get("baseline_seconds", 30))),
        "recoveryDeadline": _seconds(deadline),
        **(spec.get("timing") or {}),
    }
    names = [str(p.get("name", "")) for p in probes if isinstance(p, dict)]
    criteria = steady.get("criteria") or []
    for i, c in enumerate(criteria):
        if c.get("probe") and c["probe"] not in names:
            raise ClusterRejected(
                f"experiment {where} cannot start: hypothesis steady_state.criteria[{i}].probe "
                f"names {c['probe']!r}, which is not one of its probes ({', '.join(names)})"
            )
    first = names[0] if names else ""
    cr_hypothesis = {
        "title": (hypothesis or {}).get("title") or given.get("title") or where,
        "description": (hypothesis or {}).get("description") or given.get("description", ""),
        "probes": probes,
        "tolerances": given.get("tolerances") or tolerances(criteria, first, deadline),
    }
    rest = {k: v for k, v in spec.items() if k not in ("probes", "hypothesis", "timing")}
    return {**rest, "hypothesis": cr_hypothesis, "timing": timing}
