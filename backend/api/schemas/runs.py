"""Runs, their observation time series and their events."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import AwareDatetime, ConfigDict, Field

from backend.api.schemas.common import JsonObject, NotNull, Page, Public, Strict
from backend.spec.common import Name
from backend.spec.experiment import Verdict

RunPhase = Literal[
    "Pending", "Baseline", "Injecting", "Observing", "Recovering", "Verdict",
    "Finished", "Aborted", "Failed",
]  # fmt: skip
"""Baseline -> Injecting -> Observing -> Recovering -> Verdict, then one terminal phase."""
EventType = Literal["Normal", "Warning"]
MAX_BATCH = 100_000

NonNegative = Annotated[float, Field(ge=0)]


class RunCreate(Strict):
    phase: RunPhase = "Pending"
    started_at: AwareDatetime | None = None
    """Default: now."""
    metrics: JsonObject = {}


class RunUpdate(Strict):
    phase: Annotated[RunPhase | None, NotNull] = None
    verdict: Verdict | None = None
    finished_at: AwareDatetime | None = None
    """Default when the phase becomes terminal: now."""
    metrics: Annotated[JsonObject | None, NotNull] = None


class RunPublic(Public):
    id: int
    experiment_id: int | None
    """None once the experiment is deleted (the run is then only kept if archived)."""
    namespace: str
    experiment_name: str
    phase: RunPhase
    verdict: Verdict | None
    started_at: datetime | None
    finished_at: datetime | None
    metrics: dict[str, Any]
    archived: bool
    archived_at: datetime | None
    created_at: datetime


class RunPage(Page[RunPublic]):
    pass


class ObservationPoint(Strict):
    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)

    probe: Name
    """The experiment probe that took the sample; a run holds one series per probe."""
    ts: NonNegative
    """Unix time in seconds (fractions allowed)."""
    qps: NonNegative
    error_rate: Annotated[float, Field(ge=0, le=1)] | None = None
    """Failed requests / all requests, 0..1."""
    latency_p50_ms: NonNegative | None = None
    latency_p99_ms: NonNegative | None = None


class ObservationBatch(Strict):
    points: Annotated[list[ObservationPoint], Field(min_length=1, max_length=MAX_BATCH)]


class IngestResult(Public):
    run_id: int
    inserted: int


class ObservationPublic(ObservationPoint, Public):
    model_config = ConfigDict(from_attributes=True)

    bucket_seconds: int
    """0 for a raw sample; the bucket width once housekeeping has merged old samples."""


class ObservationSeries(Public):
    run_id: int
    points: list[ObservationPublic]


class EventCreate(Strict):
    ts: AwareDatetime
    type: EventType = "Normal"
    reason: Annotated[str, Field(min_length=1, max_length=128)]
    message: str = ""


class EventBatch(Strict):
    events: Annotated[list[EventCreate], Field(min_length=1, max_length=10_000)]


class EventPublic(Public):
    id: int
    run_id: int | None
    chaos_object_id: int | None
    ts: datetime
    type: EventType
    reason: str
    message: str


class EventPage(Page[EventPublic]):
    pass


class RunEventPublic(EventPublic):
    """An event of a run, with the experiment it belongs to (the cross-run event list)."""

    run_id: int
    namespace: str
    experiment_id: int | None
    """null once the experiment is deleted (its archived runs keep their events)."""
    experiment_name: str


class RunEventPage(Page[RunEventPublic]):
    pass
