"""The spec of the Experiment custom resource a dashboard experiment starts, so "Start run" in the
dashboard runs the same engine as `kubectl apply`.

A dashboard experiment keeps its probes, faults and timing in `spec` (the resource's shape, with
the probes as `spec.probes` or `spec.hypothesis.probes`), and its hypothesis as a row of its
namespace, which states title, description and tolerances exactly as the resource does: the
resource's hypothesis is that row plus the probes, composed and not translated. Pure: the result
is checked against the CRD schema by the cluster gateway before anything is sent, so a bad spec
comes back as a 422 naming the field.
"""

from __future__ import annotations

from typing import Any

from backend.api.errors import ClusterRejected


def experiment_spec(
    where: str, spec: dict[str, Any], hypothesis: dict[str, Any] | None
) -> dict[str, Any]:
    """The Experiment CR spec for dashboard experiment `where` (namespace/name): `spec` with its
    hypothesis (`title`, `description`, `tolerances` as the API returns them) beside its probes.
    Tolerances written in `spec.hypothesis` are kept when no hypothesis is attached."""
    given = dict(spec.get("hypothesis") or {})
    probes = spec.get("probes") or given.get("probes") or []
    if not probes:
        raise ClusterRejected(
            f"experiment {where} cannot start: spec.probes is empty; add a probe that measures "
            "the service, e.g. probes: [{name: web, type: load, url: http://web.shop/}]"
        )
    claim = hypothesis or given
    tolerances = claim.get("tolerances") or []
    if not tolerances:
        raise ClusterRejected(
            f"experiment {where} cannot start: it has no hypothesis; attach one (hypothesis_id) "
            "so the run has tolerances to judge"
        )
    names = [str(p.get("name", "")) for p in probes if isinstance(p, dict)]
    for i, t in enumerate(tolerances):
        if isinstance(t, dict) and t.get("probe") not in names:
            raise ClusterRejected(
                f"experiment {where} cannot start: hypothesis tolerances[{i}].probe names "
                f"{t.get('probe')!r}, which is not one of its probes ({', '.join(names)})"
            )
    cr_hypothesis = {
        "title": claim.get("title") or where,
        "description": claim.get("description") or "",
        "probes": probes,
        "tolerances": tolerances,
    }
    rest = {k: v for k, v in spec.items() if k not in ("probes", "hypothesis")}
    return {**rest, "hypothesis": cr_hypothesis}
