"""Runs of an experiment, their observation time series (bulk ingest) and their events."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query, status

from backend.api.deps import ScopeDep, SessionDep, authorize
from backend.api.errors import ERROR_RESPONSES, ErrorResponse, Responses
from backend.api.routes import API_PREFIX
from backend.api.schemas.common import Limit, Offset, PathId
from backend.api.schemas.runs import (
    EventBatch,
    EventPage,
    EventPublic,
    EventType,
    IngestResult,
    ObservationBatch,
    ObservationPublic,
    ObservationSeries,
    RunCreate,
    RunPage,
    RunPublic,
    RunUpdate,
)
from backend.db.repositories import events as event_repo
from backend.db.repositories import observations as observation_repo
from backend.db.repositories import runs as repo

router = APIRouter(
    prefix=API_PREFIX,
    tags=["runs"],
    dependencies=[Depends(authorize(["experiments"]))],
    responses=ERROR_RESPONSES,
)
NOT_FOUND: Responses = {404: {"model": ErrorResponse, "description": "No such run"}}
ARCHIVED: Responses = {409: {"model": ErrorResponse, "description": "The run is archived"}}


@router.get("/experiments/{experiment_id}/runs", response_model=RunPage)
def list_runs(
    session: SessionDep,
    scope: ScopeDep,
    experiment_id: PathId,
    limit: Limit = 50,
    offset: Offset = 0,
) -> RunPage:
    items, total = repo.list_runs(
        session, experiment_id=experiment_id, namespaces=scope, limit=limit, offset=offset
    )
    return RunPage(
        items=[RunPublic.model_validate(i) for i in items], total=total, limit=limit, offset=offset
    )


@router.post(
    "/experiments/{experiment_id}/runs",
    response_model=RunPublic,
    status_code=status.HTTP_201_CREATED,
    responses={404: {"model": ErrorResponse, "description": "No such experiment"}},
)
def create_run(session: SessionDep, experiment_id: PathId, body: RunCreate) -> RunPublic:
    return RunPublic.model_validate(repo.create_run(session, experiment_id, body.model_dump()))


@router.get("/runs/{run_id}", response_model=RunPublic, responses=NOT_FOUND)
def get_run(session: SessionDep, run_id: PathId) -> RunPublic:
    return RunPublic.model_validate(repo.get_run(session, run_id))


@router.patch("/runs/{run_id}", response_model=RunPublic, responses={**NOT_FOUND, **ARCHIVED})
def update_run(session: SessionDep, run_id: PathId, body: RunUpdate) -> RunPublic:
    """Moves the run on; a terminal phase also sets the experiment's status and verdict."""
    changes = body.model_dump(exclude_unset=True)
    return RunPublic.model_validate(repo.update_run(session, run_id, changes))


@router.post(
    "/runs/{run_id}/archive",
    response_model=RunPublic,
    responses={
        **NOT_FOUND,
        409: {"model": ErrorResponse, "description": "The run has not finished"},
    },
)
def archive_run(session: SessionDep, run_id: PathId) -> RunPublic:
    """Keeps a finished run after its experiment (or custom resource) is deleted."""
    return RunPublic.model_validate(repo.archive_run(session, run_id))


@router.post(
    "/runs/{run_id}/observations:batch",
    response_model=IngestResult,
    status_code=status.HTTP_201_CREATED,
    responses={**NOT_FOUND, **ARCHIVED},
)
def ingest_observations(
    session: SessionDep, run_id: PathId, body: ObservationBatch
) -> IngestResult:
    """Stores a batch of KPI samples (up to 100,000 per request, of any of the run's probes) in
    one transaction."""
    # __dict__ of a validated model is its field values: cheaper than model_dump per point.
    points = [p.__dict__ for p in body.points]
    inserted = observation_repo.insert_observations(session, run_id, points)
    return IngestResult(run_id=run_id, inserted=inserted)


@router.get("/runs/{run_id}/observations", response_model=ObservationSeries, responses=NOT_FOUND)
def list_observations(
    session: SessionDep,
    run_id: PathId,
    since: Annotated[float | None, Query(ge=0, description="Unix seconds, inclusive")] = None,
    until: Annotated[float | None, Query(ge=0, description="Unix seconds, exclusive")] = None,
    probe: Annotated[
        str | None, Query(min_length=1, max_length=253, description="One probe's series only")
    ] = None,
    limit: Annotated[int, Query(ge=1, le=100_000)] = 10_000,
) -> ObservationSeries:
    rows = observation_repo.list_observations(
        session, run_id, since=since, until=until, probe=probe, limit=limit
    )
    return ObservationSeries(
        run_id=run_id, points=[ObservationPublic.model_validate(r._asdict()) for r in rows]
    )


@router.post(
    "/runs/{run_id}/events:batch",
    response_model=IngestResult,
    status_code=status.HTTP_201_CREATED,
    responses=NOT_FOUND,
)
def record_events(session: SessionDep, run_id: PathId, body: EventBatch) -> IngestResult:
    repo.get_run(session, run_id)
    inserted = event_repo.record_events(session, body.model_dump()["events"], run_id=run_id)
    return IngestResult(run_id=run_id, inserted=inserted)


@router.get("/runs/{run_id}/events", response_model=EventPage, responses=NOT_FOUND)
def list_events(
    session: SessionDep,
    run_id: PathId,
    type: EventType | None = None,
    limit: Limit = 100,
    offset: Offset = 0,
) -> EventPage:
    repo.get_run(session, run_id)
    items, total = event_repo.list_events(
        session, run_id=run_id, type=type, limit=limit, offset=offset
    )
    return EventPage(
        items=[EventPublic.model_validate(i) for i in items],
        total=total,
        limit=limit,
        offset=offset,
    )
