"""Experiments and hypotheses as the API shows and accepts them."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import Field, computed_field

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
from backend.domain.verdict import describe
from backend.spec.experiment import Claim, Description, Title, Tolerance, Verdict

ExperimentStatus = Literal["idle", "running", "finished", "aborted", "failed"]


class HypothesisBase(Claim):
    """A hypothesis as the Experiment resource states it (`spec.hypothesis` without its probes):
    the same model, so a hypothesis reads the same in the dashboard, in YAML and in kubectl."""

    tolerances: Annotated[list[Tolerance], Field(min_length=1, max_length=20)]
    """Each a bound on a probe's metric; the probe is one of the experiment's `spec.probes`."""


class HypothesisCreate(HypothesisBase):
    namespace: Namespace
    """Experiments of this namespace may use it; RBAC on experiments there guards it."""


class HypothesisUpdate(Strict):
    title: Annotated[Title | None, NotNull] = None
    description: Annotated[Description | None, NotNull] = None
    tolerances: Annotated[
        Annotated[list[Tolerance], Field(min_length=1, max_length=20)] | None, NotNull
    ] = None


class HypothesisPublic(HypothesisBase, Public):
    id: int
    namespace: str
    created_at: datetime
    updated_at: datetime

    @computed_field  # type: ignore[prop-decorator]
    @property
    def statements(self) -> list[str]:
        """Each tolerance in words, as the verdict's results name it."""
        return [describe(t) for t in self.tolerances]


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
