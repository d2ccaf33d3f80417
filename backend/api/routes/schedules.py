"""Schedules: read from the database mirror, written through the cluster gateway."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request, status

from backend.api.deps import GatewayDep, PrincipalDep, ScopeDep, SessionDep, acting_in, authorize
from backend.api.errors import ERROR_RESPONSES, ErrorResponse
from backend.api.routes import API_PREFIX
from backend.api.schemas.chaos import Accepted, ScheduleCreate, SchedulePage, SchedulePublic
from backend.api.schemas.common import Limit, Name, Namespace, Offset
from backend.db.repositories import mirror

router = APIRouter(
    prefix=f"{API_PREFIX}/schedules",
    tags=["schedules"],
    dependencies=[Depends(authorize(["schedules"]))],
    responses={
        **ERROR_RESPONSES,
        503: {"model": ErrorResponse, "description": "No Kubernetes cluster is connected"},
    },
)


@router.get("", response_model=SchedulePage)
def list_schedules(
    session: SessionDep,
    scope: ScopeDep,
    namespace: Namespace | None = None,
    limit: Limit = 50,
    offset: Offset = 0,
) -> SchedulePage:
    items, total = mirror.list_schedules(
        session, namespace=namespace, namespaces=scope, limit=limit, offset=offset
    )
    return SchedulePage(
        items=[SchedulePublic.model_validate(i) for i in items],
        total=total,
        limit=limit,
        offset=offset,
    )


@router.post("", response_model=Accepted, status_code=status.HTTP_202_ACCEPTED)
def create_schedule(
    request: Request, principal: PrincipalDep, gateway: GatewayDep, body: ScheduleCreate
) -> Accepted:
    """Carries the caller's record, so every firing is judged as the caller."""
    namespace = acting_in(request, body.namespace)
    spec = {"schedule": body.schedule, "type": body.type, **body.spec}
    uid = gateway.create("Schedule", namespace, body.name, spec, creator=principal.creator())
    return Accepted(
        kind="Schedule", namespace=body.namespace, name=body.name, uid=uid,
        detail="created in the cluster; it appears in the list once the watcher reports it",
    )  # fmt: skip


@router.get(
    "/{namespace}/{name}",
    response_model=SchedulePublic,
    responses={404: {"model": ErrorResponse, "description": "No such schedule"}},
)
def get_schedule(session: SessionDep, namespace: Namespace, name: Name) -> SchedulePublic:
    return SchedulePublic.model_validate(mirror.get_schedule(session, namespace, name))


@router.delete("/{namespace}/{name}", response_model=Accepted, status_code=202)
def delete_schedule(gateway: GatewayDep, namespace: Namespace, name: Name) -> Accepted:
    gateway.delete("Schedule", namespace, name)
    return Accepted(kind="Schedule", namespace=namespace, name=name, detail="deletion requested")
