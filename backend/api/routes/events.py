"""Events of every run in one list, newest first: the overview and the events page make one
request instead of one per run.

Checked like the runs themselves (RBAC on `experiments`): in the namespace the request names,
else the list shows the namespaces where the caller may list experiments (an `experiment_id` of
another namespace finds nothing). Events of chaos objects stay under
/chaos/{kind}/{namespace}/{name}/events, where the chaos kinds' permissions apply.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query
from pydantic import AwareDatetime

from backend.api.deps import ScopeDep, SessionDep, authorize
from backend.api.errors import ERROR_RESPONSES
from backend.api.routes import API_PREFIX
from backend.api.schemas.common import MAX_ID, Limit, Namespace, Offset
from backend.api.schemas.runs import EventType, RunEventPage, RunEventPublic
from backend.db.repositories import events as repo

router = APIRouter(
    prefix=f"{API_PREFIX}/events",
    tags=["events"],
    dependencies=[Depends(authorize(["experiments"]))],
    responses=ERROR_RESPONSES,
)


@router.get("", response_model=RunEventPage)
def list_run_events(
    session: SessionDep,
    scope: ScopeDep,
    namespace: Namespace | None = None,
    experiment_id: Annotated[int | None, Query(ge=1, le=MAX_ID)] = None,
    type: EventType | None = None,
    reason: Annotated[str | None, Query(min_length=1, max_length=128)] = None,
    since: Annotated[AwareDatetime | None, Query(description="inclusive, ISO 8601")] = None,
    until: Annotated[AwareDatetime | None, Query(description="exclusive, ISO 8601")] = None,
    limit: Limit = 100,
    offset: Offset = 0,
) -> RunEventPage:
    """Run events across experiments, newest first, with each run's experiment."""
    rows, total = repo.list_run_events(
        session,
        namespace=namespace,
        experiment_id=experiment_id,
        type=type,
        reason=reason,
        since=since,
        until=until,
        namespaces=scope,
        limit=limit,
        offset=offset,
    )
    items = [
        RunEventPublic(
            id=event.id,
            run_id=event.run_id,
            chaos_object_id=None,
            ts=event.ts,
            type=event.type,
            reason=event.reason,
            message=event.message,
            namespace=ns,
            experiment_id=experiment_id_,
            experiment_name=name,
        )
        for event, ns, experiment_id_, name in rows
    ]
    return RunEventPage(items=items, total=total, limit=limit, offset=offset)
