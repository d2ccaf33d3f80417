"""Experiment: Faultline's own kind - a hypothesis about a service, the faults that test it, and
the timing that turns measurements into a verdict.

Lifecycle: Baseline (measure the probes) -> Injecting -> Observing -> Recovering (faults removed,
wait for the probes to come back) -> Verdict (did every tolerance hold?). The status keeps the
phase timestamps, the measured recovery metrics and one result per tolerance, so `kubectl get`,
the dashboard and the CLI's JUnit report all read the same numbers.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, ClassVar, Literal

from pydantic import ConfigDict, Field

from backend.spec.common import Duration, Name
from backend.spec.rules import Rule, SpecModel
from backend.spec.schedule import EmbeddedChaos, ObjectRef
from backend.spec.status import Conditions
from chaosd.duration import parse_duration


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


def _exactly_one(fields: tuple[str, ...], message: str, path: str | None = None) -> Rule:
    return Rule(
        " + ".join(f"(has(self.{f}) ? 1 : 0)" for f in fields) + " == 1",
        message,
        lambda s: sum(getattr(s, f) is not None for f in fields) == 1,
        path,
    )


PROBE_DEFAULT_INTERVAL = {"load": "200ms", "http": "1s", "prometheus": "5s"}
"""Used when a probe gives no interval; a load probe must sample at least 5 times a second."""


class Probe(SpecModel):
    """A steady-state measurement, sampled every `interval` through the whole experiment.

    load: the built-in HTTP load generator drives traffic at `url` (closed loop with `workers`,
    or open loop at `rate` requests/s) and measures QPS, error rate and latency;
    http: a passive check of `url` (expected status code, optional body match);
    prometheus: a PromQL query returning one number, judged as the probe's value ("qps").
    """

    name: Name
    type: Literal["load", "prometheus", "http"]
    url: Annotated[str, Field(pattern=r"^https?://", max_length=2048)]
    """prometheus: the server's base URL; load and http: the endpoint to request."""
    query: Annotated[str, Field(min_length=1, max_length=4096)] | None = None
    """PromQL returning one number, e.g. sum(rate(http_requests_total{job="web"}[30s]))."""
    method: Literal["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE"] = "GET"
    body: Annotated[str, Field(max_length=65536)] | None = None
    workers: Annotated[int, Field(ge=1, le=256)] | None = None
    """load: concurrent closed-loop workers (default 8 when rate is not given)."""
    rate: Annotated[float, Field(gt=0, le=100000)] | None = None
    """load: open-loop requests per second."""
    expectStatus: (
        Annotated[list[Annotated[int, Field(ge=100, le=599)]], Field(max_length=20)] | None
    ) = None
    """http: status codes that count as success (default: any 2xx or 3xx)."""
    bodyMatch: Annotated[str, Field(min_length=1, max_length=1024)] | None = None
    """http: a regular expression the response body must contain."""
    interval: Duration | None = None
    """Sampling interval; default 200ms for load, 1s for http, 5s for prometheus."""
    timeout: Duration = "1s"

    __rules__: ClassVar[tuple[Rule, ...]] = (
        Rule(
            "self.type != 'prometheus' || has(self.query)",
            "query is required when type is prometheus",
            lambda s: s.type != "prometheus" or s.query is not None,
            ".query",
        ),
        Rule(
            "self.type != 'load' || !has(self.interval) "
            "|| duration(self.interval) <= duration('200ms')",
            "a load probe samples at least 5 times a second: interval must be at most 200ms",
            lambda s: s.type != "load" or s.interval is None or parse_duration(s.interval) <= 0.2,
            ".interval",
        ),
        Rule(
            "!has(self.workers) || !has(self.rate)",
            "give workers (closed loop) or rate (open loop), not both",
            lambda s: s.workers is None or s.rate is None,
            ".rate",
        ),
        Rule(
            "self.type == 'load' || (!has(self.workers) && !has(self.rate))",
            "workers and rate apply only to probes of type load",
            lambda s: s.type == "load" or (s.workers is None and s.rate is None),
            ".type",
        ),
        Rule(
            "self.type == 'http' || (!has(self.expectStatus) && !has(self.bodyMatch))",
            "expectStatus and bodyMatch apply only to probes of type http",
            lambda s: s.type == "http" or (s.expectStatus is None and s.bodyMatch is None),
            ".type",
        ),
    )

    def interval_seconds(self) -> float:
        return parse_duration(self.interval or PROBE_DEFAULT_INTERVAL[self.type])


Metric = Literal["qps", "errorRate", "latencyP50", "latencyP99"]
Window = Literal["fault", "afterRecovery", "whole"]
_BOUNDS = (
    "atLeastPercentOfBaseline",
    "atMostPercentOfBaseline",
    "atLeast",
    "atMost",
    "maxDropPercent",
    "recoverTo",
)


class Tolerance(SpecModel):
    """One criterion of the hypothesis: a bound on a probe's metric over a window, relative to
    the probe's baseline or absolute, or a recovery target with a deadline. Examples:
    `{probe: web, metric: qps, during: fault, atLeastPercentOfBaseline: 50}`,
    `{probe: web, recoverTo: 90, within: 60s, from: faultStart}`,
    `{probe: web, metric: errorRate, atMost: 0.01, during: afterRecovery}`."""

    model_config = ConfigDict(populate_by_name=True)

    probe: Name
    metric: Metric = "qps"
    during: Window = "fault"
    """fault: from injection (+ timing.observeAfter) until the faults are removed;
    afterRecovery: from the moment the probe recovered until the end; whole: fault start to end."""
    atLeastPercentOfBaseline: Annotated[float, Field(ge=0, le=1000)] | None = None
    atMostPercentOfBaseline: Annotated[float, Field(ge=0)] | None = None
    atLeast: float | None = None
    atMost: float | None = None
    maxDropPercent: Annotated[float, Field(ge=0, le=100)] | None = None
    """Shorthand: the value may fall at most this many percent below its baseline."""
    recoverTo: Annotated[float, Field(gt=0, le=100)] | None = None
    """QPS must be back at this percent of baseline (and stay there) `within` the deadline."""
    within: Duration | None = None
    from_: Annotated[Literal["faultStart", "faultEnd"], Field(alias="from")] = "faultEnd"
    """Where the `within` deadline of recoverTo is counted from."""

    __rules__: ClassVar[tuple[Rule, ...]] = (
        _exactly_one(
            _BOUNDS,
            "give exactly one of atLeastPercentOfBaseline, atMostPercentOfBaseline, atLeast, "
            "atMost, maxDropPercent or recoverTo",
        ),
        Rule(
            "!has(self.recoverTo) || has(self.within)",
            "within is required when recoverTo is set",
            lambda s: s.recoverTo is None or s.within is not None,
            ".within",
        ),
        Rule(
            "!has(self.within) || has(self.recoverTo)",
            "within applies only to recoverTo",
            lambda s: s.within is None or s.recoverTo is not None,
            ".within",
        ),
        Rule(
            "!has(self.recoverTo) || self.metric == 'qps'",
            "recoverTo is measured on qps: metric must be qps",
            lambda s: s.recoverTo is None or s.metric == "qps",
            ".metric",
        ),
    )


class AbortCondition(SpecModel):
    """Stop the experiment at once (every fault removed, verdict Aborted) when it hurts."""

    model_config = ConfigDict(populate_by_name=True)

    probe: Name
    belowPercent: Annotated[float, Field(ge=0, le=100)] | None = None
    """Abort when QPS stays below this percent of baseline for `for`."""
    errorRateAbove: Annotated[float, Field(ge=0, le=1)] | None = None
    """Abort when the error rate (0..1) stays above this for `for`."""
    for_: Annotated[Duration, Field(alias="for")] = "0s"

    __rules__: ClassVar[tuple[Rule, ...]] = (
        _exactly_one(
            ("belowPercent", "errorRateAbove"), "give exactly one of belowPercent or errorRateAbove"
        ),
    )


class Abort(SpecModel):
    conditions: Annotated[list[AbortCondition], Field(max_length=10)] = []
    onProbeError: bool = True
    """Abort when a probe stops reporting (its process died, or it cannot reach its target
    for Prometheus); a load probe's failed requests count as errors, not as a probe error."""


Title = Annotated[str, Field(min_length=1, max_length=200)]
Description = Annotated[str, Field(max_length=4096)]
Tolerances = Annotated[list[Tolerance], Field(max_length=20)]


class Claim(SpecModel):
    """What a hypothesis says, apart from how it is measured: its title, its description and the
    tolerances that must hold. The dashboard keeps claims (an experiment of the same namespace
    uses one); an Experiment embeds one beside its probes."""

    title: Title
    description: Description = ""
    tolerances: Tolerances = []

    def claim(self) -> dict[str, Any]:
        """This claim as JSON, as the dashboard API takes and returns it."""
        return self.model_dump(
            mode="json", by_alias=True, exclude_none=True, include=set(Claim.model_fields)
        )


class Hypothesis(Claim):
    probes: Annotated[list[Probe], _list_map("name", 10, 1), _unique("name")]


class Timing(SpecModel):
    baseline: Duration = "60s"
    """How long to measure the probes before injecting."""
    faultDuration: Duration
    """How long the faults stay in force (overrides each fault's own duration)."""
    observeAfter: Duration = "0s"
    """Grace after injection before `during: fault` tolerances are judged."""
    recoveryDeadline: Duration = "60s"
    """How long after the faults are removed the probes are watched for recovery."""
    recoveryHold: Duration = "3s"
    """A probe counts as recovered only once it stays at its target this long."""
    injectionTimeout: Duration = "30s"
    """How long the faults may take to be verified in force on at least one target each; a
    fault that is not (no target matched, the node daemon refused it) ends the run with Error."""


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
    "Pending", "Baseline", "Injecting", "Observing", "Recovering", "Verdict", "Finished"
]
Verdict = Literal["Passed", "Failed", "Aborted", "Error"]
_Text = Annotated[str, Field(max_length=1024)]
Seconds = Annotated[float, Field(ge=0)]


class PhaseTime(SpecModel):
    phase: ExperimentPhase
    time: datetime


class ProbeMetrics(SpecModel):
    """What the fault did to one probe's KPI (seconds; QPS in requests/s)."""

    probe: Name
    samples: Annotated[int, Field(ge=0)] = 0
    baselineQps: float | None = None
    baselineLow: float | None = None
    """Lower edge of the baseline noise band."""
    minQps: float | None = None
    dipDepthPercent: float | None = None
    timeToImpactSeconds: Seconds | None = None
    dipDurationSeconds: Seconds | None = None
    timeToRecoverFromStartSeconds: Seconds | None = None
    timeToRecoverFromEndSeconds: Seconds | None = None
    lostRequests: float | None = None
    """Requests not served compared with the baseline rate: the error budget consumed."""
    failedRequests: float | None = None
    errorRateDuringFault: float | None = None


class CriterionResult(SpecModel):
    criterion: _Text
    """The tolerance in words, e.g. "web qps >= 50% of baseline during fault"."""
    probe: Name
    expected: _Text
    observed: _Text
    passed: bool


class ExperimentStatus(SpecModel):
    phase: ExperimentPhase = "Pending"
    verdict: Verdict | None = None
    """Passed/Failed: did every tolerance hold; Aborted: an abort condition fired and the faults
    were removed early; Error: the experiment could not be judged (no baseline, faults not
    created, run interrupted)."""
    aborted: bool = False
    startTime: datetime | None = None
    faultStartTime: datetime | None = None
    faultEndTime: datetime | None = None
    endTime: datetime | None = None
    faultsVerifiedTime: datetime | None = None
    """When every fault was seen in force on at least one target (verified injection)."""
    abortTime: datetime | None = None
    """When the engine decided to abort."""
    faultsRemovedTime: datetime | None = None
    """When the last child chaos object was gone, i.e. its faults recovered on the nodes."""
    phaseTimes: Annotated[list[PhaseTime], Field(max_length=10)] = []
    faultObjects: Annotated[list[ObjectRef], Field(max_length=10)] = []
    probeJobs: Annotated[list[Name], Field(max_length=10)] = []
    metrics: Annotated[list[ProbeMetrics], Field(max_length=10)] = []
    results: Annotated[list[CriterionResult], Field(max_length=20)] = []
    dashboardRunId: int | None = None
    runner: Annotated[str, Field(max_length=253)] | None = None
    """The operator instance running the experiment; another instance takes over only once
    `heartbeatTime` is stale, so two operators never run one experiment twice."""
    heartbeatTime: datetime | None = None
    conditions: Conditions = []
    message: Annotated[str, Field(max_length=32768)] = ""
