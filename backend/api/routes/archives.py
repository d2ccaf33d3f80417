"""Archives: finished runs kept after their experiment is deleted, and the last state of every
custom resource (chaos object, Experiment, Schedule) deleted from the cluster."""

from __future__ import annotations

from typing import Literal

from fastapi import APIRouter, Depends, status

from backend.api.deps import ScopeDep, SessionDep, authorize
from backend.api.errors import ERROR_RESPONSES, ErrorResponse
from backend.api.routes import API_PREFIX
from backend.api.schemas.chaos import ArchivedObjectPage, ArchivedObjectPublic
from backend.api.schemas.common import Limit, Namespace, Offset, PathId
from backend.api.schemas.runs import RunPage, RunPublic
from backend.db.repositories import archived_objects as object_repo
from backend.db.repositories import runs as repo

router = APIRouter(
    prefix=f"{API_PREFIX}/archives",
    tags=["archives"],
    dependencies=[Depends(authorize(["experiments"]))],
    responses=ERROR_RESPONSES,
)


@router.get("", response_model=RunPage)
def list_archives(
    session: SessionDep,
    scope: ScopeDep,
    namespace: Namespace | None = None,
    limit: Limit = 50,
    offset: Offset = 0,
) -> RunPage:
    items, total = repo.list_runs(
        session, archived=True, namespace=namespace, namespaces=scope, limit=limit, offset=offset
    )
    return RunPage(
        items=[RunPublic.model_validate(i) for i in items], total=total, limit=limit, offset=offset
    )


@router.delete(
    "/{run_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    responses={404: {"model": ErrorResponse, "description": "No such archived run"}},
)
def delete_archive(session: SessionDep, run_id: PathId) -> None:
    """Deletes an archived run with its observations and events."""
    repo.delete_archived_run(session, run_id)


ArchivedKind = Literal["PodChaos", "NetworkChaos", "IOChaos", "Experiment", "Schedule"]


@router.get("/objects", response_model=ArchivedObjectPage)
def list_archived_objects(
    session: SessionDep,
    scope: ScopeDep,
    kind: ArchivedKind | None = None,
    namespace: Namespace | None = None,
    limit: Limit = 50,
    offset: Offset = 0,
) -> ArchivedObjectPage:
    """Custom resources deleted from the cluster, newest deletion first."""
    items, total = object_repo.list_archived_objects(
        session, kind=kind, namespace=namespace, namespaces=scope, limit=limit, offset=offset
    )
    return ArchivedObjectPage(
        items=[ArchivedObjectPublic.model_validate(i) for i in items],
        total=total,
        limit=limit,
        offset=offset,
    )


@router.get(
    "/objects/{archive_id}",
    response_model=ArchivedObjectPublic,
    responses={404: {"model": ErrorResponse, "description": "No such archived object"}},
)
def get_archived_object(session: SessionDep, archive_id: PathId) -> ArchivedObjectPublic:
    return ArchivedObjectPublic.model_validate(object_repo.get_archived_object(session, archive_id))
