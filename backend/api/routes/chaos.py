"""Chaos objects: read from the database mirror, written through the cluster gateway."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request, status

from backend.api.deps import (
    GatewayDep,
    PrincipalDep,
    ScopeDep,
    SessionDep,
    acting_in,
    agreed,
    authorize,
)
from backend.api.errors import ERROR_RESPONSES, ErrorResponse, Responses
from backend.api.routes import API_PREFIX
from backend.api.schemas.chaos import (
    CHAOS_KINDS,
    Accepted,
    ChaosKind,
    ChaosObjectCreate,
    ChaosObjectPage,
    ChaosObjectPublic,
    plural,
)
from backend.api.schemas.common import Limit, Name, Namespace, Offset
from backend.api.schemas.runs import EventPage, EventPublic
from backend.db.repositories import events as event_repo
from backend.db.repositories import mirror


def chaos_resources(request: Request) -> list[str]:
    """RBAC resources a request touches: its kind if it names one, else every chaos kind. The
    path, the query and the body (POST /chaos) must not name different kinds (400)."""
    body = getattr(request.state, "json_body", {})
    sources: list[tuple[str, str | None]] = [
        ("the path", request.path_params.get("kind")),
        ("the body", body.get("kind") if isinstance(body.get("kind"), str) else None),
        *[("the query parameter", k) for k in request.query_params.getlist("kind")],
    ]
    kind = agreed("kind", sources)
    kinds = [kind] if kind in CHAOS_KINDS else list(CHAOS_KINDS)
    return [plural(k) for k in kinds]


router = APIRouter(
    prefix=f"{API_PREFIX}/chaos",
    tags=["chaos"],
    dependencies=[Depends(authorize(chaos_resources))],
    responses={
        **ERROR_RESPONSES,
        503: {"model": ErrorResponse, "description": "No Kubernetes cluster is connected"},
    },
)
NOT_FOUND: Responses = {404: {"model": ErrorResponse, "description": "No such chaos object"}}


@router.get("", response_model=ChaosObjectPage)
def list_chaos_objects(
    session: SessionDep,
    scope: ScopeDep,
    kind: ChaosKind | None = None,
    namespace: Namespace | None = None,
    phase: str | None = None,
    limit: Limit = 50,
    offset: Offset = 0,
) -> ChaosObjectPage:
    items, total = mirror.list_chaos_objects(
        session, kind=kind, namespace=namespace, phase=phase, namespaces=scope,
        limit=limit, offset=offset,
    )  # fmt: skip
    return ChaosObjectPage(
        items=[ChaosObjectPublic.model_validate(i) for i in items],
        total=total,
        limit=limit,
        offset=offset,
    )


@router.post("", response_model=Accepted, status_code=status.HTTP_202_ACCEPTED)
def create_chaos_object(
    request: Request, principal: PrincipalDep, gateway: GatewayDep, body: ChaosObjectCreate
) -> Accepted:
    """Created with the dashboard's account, carrying the caller's record: the admission webhook
    judges every namespace the spec targets as the caller."""
    namespace = acting_in(request, body.namespace)
    creator = principal.creator()
    uid = gateway.create(body.kind, namespace, body.name, body.spec, creator=creator)
    return Accepted(
        kind=body.kind, namespace=body.namespace, name=body.name, uid=uid,
        detail="created in the cluster; it appears in the list once the watcher reports it",
    )  # fmt: skip


@router.get("/{kind}/{namespace}/{name}", response_model=ChaosObjectPublic, responses=NOT_FOUND)
def get_chaos_object(
    session: SessionDep, kind: ChaosKind, namespace: Namespace, name: Name
) -> ChaosObjectPublic:
    return ChaosObjectPublic.model_validate(mirror.get_chaos_object(session, kind, namespace, name))


@router.get("/{kind}/{namespace}/{name}/events", response_model=EventPage, responses=NOT_FOUND)
def list_chaos_events(
    session: SessionDep,
    kind: ChaosKind,
    namespace: Namespace,
    name: Name,
    limit: Limit = 100,
    offset: Offset = 0,
) -> EventPage:
    obj = mirror.get_chaos_object(session, kind, namespace, name)
    items, total = event_repo.list_events(
        session, chaos_object_id=obj.id, limit=limit, offset=offset
    )
    return EventPage(
        items=[EventPublic.model_validate(i) for i in items],
        total=total,
        limit=limit,
        offset=offset,
    )


def _accepted(kind: str, namespace: str, name: str, detail: str) -> Accepted:
    return Accepted(kind=kind, namespace=namespace, name=name, detail=detail)


@router.post("/{kind}/{namespace}/{name}/pause", response_model=Accepted, status_code=202)
def pause_chaos_object(
    gateway: GatewayDep, kind: ChaosKind, namespace: Namespace, name: Name
) -> Accepted:
    """Sets the chaos.faultline.dev/pause annotation: the fault is recovered until resumed."""
    gateway.set_paused(kind, namespace, name, True)
    return _accepted(kind, namespace, name, "pause requested")


@router.post("/{kind}/{namespace}/{name}/resume", response_model=Accepted, status_code=202)
def resume_chaos_object(
    gateway: GatewayDep, kind: ChaosKind, namespace: Namespace, name: Name
) -> Accepted:
    gateway.set_paused(kind, namespace, name, False)
    return _accepted(kind, namespace, name, "resume requested")


@router.delete("/{kind}/{namespace}/{name}", response_model=Accepted, status_code=202)
def delete_chaos_object(
    gateway: GatewayDep, kind: ChaosKind, namespace: Namespace, name: Name
) -> Accepted:
    """Deletes the custom resource; the operator recovers the fault before it disappears."""
    gateway.delete(kind, namespace, name)
    return _accepted(kind, namespace, name, "deletion requested")
