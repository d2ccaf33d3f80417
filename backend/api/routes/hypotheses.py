"""Hypotheses: the tolerances a service's probes must stay within while a fault is in force and
how fast they must come back, stated as the Experiment resource states them."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request, status

from backend.api.deps import ScopeDep, SessionDep, acting_in, authorize
from backend.api.errors import ERROR_RESPONSES, ErrorResponse, Responses
from backend.api.routes import API_PREFIX
from backend.api.schemas.common import Limit, Namespace, Offset, PathId
from backend.api.schemas.experiments import (
    HypothesisCreate,
    HypothesisPage,
    HypothesisPublic,
    HypothesisUpdate,
)
from backend.db.repositories import experiments as repo

# Hypotheses are part of an experiment's definition, so they share its RBAC resource, checked in
# the hypothesis' own namespace.
router = APIRouter(
    prefix=f"{API_PREFIX}/hypotheses",
    tags=["hypotheses"],
    dependencies=[Depends(authorize(["experiments"]))],
    responses=ERROR_RESPONSES,
)
NOT_FOUND: Responses = {404: {"model": ErrorResponse, "description": "No such hypothesis"}}


@router.get("", response_model=HypothesisPage)
def list_hypotheses(
    session: SessionDep,
    scope: ScopeDep,
    namespace: Namespace | None = None,
    limit: Limit = 50,
    offset: Offset = 0,
) -> HypothesisPage:
    items, total = repo.list_hypotheses(
        session, namespace=namespace, namespaces=scope, limit=limit, offset=offset
    )
    return HypothesisPage(
        items=[HypothesisPublic.model_validate(i) for i in items],
        total=total,
        limit=limit,
        offset=offset,
    )


@router.post("", response_model=HypothesisPublic, status_code=status.HTTP_201_CREATED)
def create_hypothesis(
    request: Request, session: SessionDep, body: HypothesisCreate
) -> HypothesisPublic:
    """Experiments of the hypothesis' namespace may use it."""
    acting_in(request, body.namespace)
    values = body.model_dump(mode="json", by_alias=True, exclude_none=True)
    return HypothesisPublic.model_validate(repo.create_hypothesis(session, values))


@router.get("/{hypothesis_id}", response_model=HypothesisPublic, responses=NOT_FOUND)
def get_hypothesis(session: SessionDep, hypothesis_id: PathId) -> HypothesisPublic:
    return HypothesisPublic.model_validate(repo.get_hypothesis(session, hypothesis_id))


@router.patch("/{hypothesis_id}", response_model=HypothesisPublic, responses=NOT_FOUND)
def update_hypothesis(
    session: SessionDep, hypothesis_id: PathId, body: HypothesisUpdate
) -> HypothesisPublic:
    changes = body.model_dump(mode="json", by_alias=True, exclude_unset=True)
    return HypothesisPublic.model_validate(repo.update_hypothesis(session, hypothesis_id, changes))


@router.delete("/{hypothesis_id}", status_code=status.HTTP_204_NO_CONTENT, responses=NOT_FOUND)
def delete_hypothesis(session: SessionDep, hypothesis_id: PathId) -> None:
    """Experiments that used the hypothesis keep existing, without one."""
    repo.delete_hypothesis(session, hypothesis_id)
