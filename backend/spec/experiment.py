"""Experiment: Faultline's own kind - a hypothesis about a service, the faults that test it, and
the timing that turns measurements into a verdict.

Lifecycle: Baseline (measure the probes) -> Injecting -> Observing -> Recovering (faults removed,
wait for the probes to come back) -> Verdict (did every tolerance hold?).
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, ClassVar, Literal

from pydantic import Field

from backend.spec.common import Duration, Name
from backend.spec.rules import Rule, SpecModel
from backend.spec.schedule import EmbeddedChaos, ObjectRef
from backend.spec.status import Conditions


def _list_map(key: str, max_items: int, min_items: int = 0) -> Any:
    return Field(
        min_length=min_items,
        max_length=max_items,
        json_schema_extra={"x-kubernetes-list-type": "map", "x-kubernetes-list-map-keys": [key]},
    )


def _unique(key: str) -> Rule:
    # The API server enforces this through the list-map keys; Python checks it by hand.
    return Rule(
        None, f"{key} must be unique", lambda items: _no_dupes([getattr(i, key) for i in items])
    )


def _no_dupes(keys: list[str]) -> bool:
    return len(keys) == len(set(keys))


class Probe(SpecModel):
    """A steady-state measurement, sampled every `interval` through the whole experiment."""

    name: Name
    type: Literal["prometheus", "http"]
    url: Annotated[str, Field(pattern=r"^https?://", max_length=2048)]
    """prometheus: the server's base URL; http: the endpoint to request (success rate and
    latency are measured)."""
    query: Annotated[str, Field(min_length=1, max_length=4096)] | None = None
    """PromQL returning one number, e.g. sum(rate(http_requests_total{job="web"}[30s]))."""
    interval: Duration = "5s"
    timeout: Duration = "2s"

    __rules__: ClassVar[tuple[Rule, ...]] = (
        Rule(
            "self.type != 'prometheus' || has(self.query)",
            "query is required when type is prometheus",
            lambda s: s.type != "prometheus" or s.query is not None,
            ".query",
        ),
    )


class Tolerance(SpecModel):
    """How far a probe may stray from its baseline and still count as healthy."""

    probe: Name
    maxDropPercent: Annotated[int, Field(ge=0, le=100)] = 100
    """During the fault the value may fall at most this many percent below its baseline."""
    recoveredAtPercent: Annotated[int, Field(ge=1, le=100)] = 95
    """After the fault the value counts as recovered once back at this percent of baseline."""


class AbortCondition(SpecModel):
    probe: Name
    belowPercent: Annotated[int, Field(ge=0, le=100)]
    """Abort (recover every fault at once) when the value falls below this percent of baseline."""


class Abort(SpecModel):
    conditions: Annotated[list[AbortCondition], Field(max_length=10)] = []
    onProbeError: bool = True
    """Abort when a probe cannot be read (the service may be down or unobservable)."""


class Hypothesis(SpecModel):
    title: Annotated[str, Field(min_length=1, max_length=200)]
    description: Annotated[str, Field(max_length=4096)] = ""
    probes: Annotated[list[Probe], _list_map("name", 10, 1), _unique("name")]
    tolerances: Annotated[list[Tolerance], _list_map("probe", 10), _unique("probe")] = []


class Timing(SpecModel):
    baseline: Duration = "60s"
    """How long to measure the probes before injecting."""
    faultDuration: Duration
    """How long the faults stay in force (overrides each fault's own duration)."""
    observeAfter: Duration = "0s"
    """Grace after injection before tolerances are judged (lets a dip settle in)."""
    recoveryDeadline: Duration = "60s"
    """How long after the faults are removed every probe has to recover."""


class ExperimentFault(EmbeddedChaos):
    name: Name


def _probe_refs(s: ExperimentSpec) -> bool:
    names = {p.name for p in s.hypothesis.probes}
    refs = [t.probe for t in s.hypothesis.tolerances] + [c.probe for c in s.abort.conditions]
    return all(r in names for r in refs)


class ExperimentSpec(SpecModel):
    hypothesis: Hypothesis
    faults: Annotated[list[ExperimentFault], _list_map("name", 10, 1), _unique("name")]
    timing: Timing
    abort: Abort = Field(default_factory=Abort)

    __rules__: ClassVar[tuple[Rule, ...]] = (
        Rule(
            "(!has(self.hypothesis.tolerances) || self.hypothesis.tolerances.all(t, "
            "self.hypothesis.probes.exists(p, p.name == t.probe))) && (!has(self.abort) || "
            "!has(self.abort.conditions) || self.abort.conditions.all(c, "
            "self.hypothesis.probes.exists(p, p.name == c.probe)))",
            "every tolerance and abort condition must name a probe of the hypothesis",
            _probe_refs,
            ".hypothesis.tolerances",
        ),
    )


ExperimentPhase = Literal[
    "Pending", "Baseline", "Injecting", "Observing", "Recovering", "Verdict", "Finished", "Failed"
]


class ExperimentStatus(SpecModel):
    phase: ExperimentPhase = "Pending"
    verdict: Literal["Passed", "Failed", "Inconclusive"] | None = None
    """Did every tolerance hold? Inconclusive when a probe gave no usable baseline."""
    aborted: bool = False
    faultObjects: Annotated[list[ObjectRef], Field(max_length=10)] = []
    conditions: Conditions = []
    startTime: datetime | None = None
    endTime: datetime | None = None
    message: Annotated[str, Field(max_length=32768)] = ""
