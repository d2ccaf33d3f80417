"""Experiments and hypotheses as the API shows and accepts them."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import Field, model_validator

from backend.api.schemas.common import (
    JsonObject,
    Name,
    Namespace,
    NotNull,
    Page,
    Public,
    RefId,
    Strict,
)
from backend.spec.experiment import Verdict

ExperimentStatus = Literal["idle", "running", "finished", "aborted", "failed"]
Metric = Literal["qps", "error_rate", "latency_p50_ms", "latency_p99_ms"]


class SteadyStateCriterion(Strict):
    """One KPI bound: relative to the baseline measured before injection, or absolute."""

    metric: Metric
    probe: Annotated[str, Field(min_length=1, max_length=253)] | None = None
    """The probe whose series this criterion judges (a name from the experiment's probes);
    unset: the experiment's first probe."""
    max_drop_percent: Annotated[float, Field(ge=0, le=100)] | None = None
    """Largest allowed fall below the baseline, e.g. 20 for "QPS stays above 80 %"."""
    max_increase_percent: Annotated[float, Field(ge=0)] | None = None
    """Largest allowed rise above the baseline (latency, error rate)."""
    min: float | None = None
    max: float | None = None

    @model_validator(mode="after")
    def _has_bound(self) -> SteadyStateCriterion:
        bounds = (self.max_drop_percent, self.max_increase_percent, self.min, self.max)
        if all(b is None for b in bounds):
            raise ValueError(
                "a criterion needs at least one of max_drop_percent, max_increase_percent, min, max"
            )
        if self.min is not None and self.max is not None and self.min > self.max:
            raise ValueError(f"min ({self.min}) is greater than max ({self.max})")
        return self


class SteadyState(Strict):
    criteria: Annotated[list[SteadyStateCriterion], Field(min_length=1)]
    baseline_seconds: Annotated[float, Field(gt=0, le=3600)] = 30
    recovery_deadline_seconds: Annotated[float, Field(gt=0, le=86400)] = 60
    """After the fault ends, every criterion must hold again within this many seconds."""


class HypothesisBase(Strict):
    title: Annotated[str, Field(min_length=1, max_length=200)]
    description: str = ""
    steady_state: SteadyState


class HypothesisCreate(HypothesisBase):
    namespace: Namespace
    """Experiments of this namespace may use it; RBAC on experiments there guards it."""


class HypothesisUpdate(Strict):
    title: Annotated[Annotated[str, Field(min_length=1, max_length=200)] | None, NotNull] = None
    description: Annotated[str | None, NotNull] = None
    steady_state: Annotated[SteadyState | None, NotNull] = None


class HypothesisPublic(HypothesisBase, Public):
    id: int
    namespace: str
    created_at: datetime
    updated_at: datetime


class HypothesisPage(Page[HypothesisPublic]):
    pass


class ExperimentBase(Strict):
    description: str = ""
    hypothesis_id: RefId | None = None
    """A hypothesis of the experiment's own namespace."""
    spec: JsonObject = {}
    """The experiment's fault(s) and phases, as in the Experiment custom resource."""


class ExperimentCreate(ExperimentBase):
    namespace: Namespace
    name: Name


class ExperimentUpdate(Strict):
    description: Annotated[str | None, NotNull] = None
    hypothesis_id: RefId | None = None
    """null detaches the hypothesis."""
    spec: Annotated[JsonObject | None, NotNull] = None


class ExperimentPublic(ExperimentBase, Public):
    id: int
    namespace: str
    name: str
    status: ExperimentStatus
    verdict: Verdict | None
    created_at: datetime
    updated_at: datetime


class ExperimentPage(Page[ExperimentPublic]):
    pass
