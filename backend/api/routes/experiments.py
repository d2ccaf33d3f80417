"""Experiments: list with filters, create, read, update, delete, and start a run in the cluster."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request, status

from backend.api.auth import Access
from backend.api.deps import (
    GatewayDep,
    PrincipalDep,
    ScopeDep,
    SessionDep,
    acting_in,
    authorize,
)
from backend.api.errors import ERROR_RESPONSES, ErrorResponse, Responses
from backend.api.experiment_manifest import experiment_spec
from backend.api.routes import API_PREFIX
from backend.api.schemas.chaos import Accepted
from backend.api.schemas.common import Limit, Namespace, Offset, PathId
from backend.api.schemas.experiments import (
    ExperimentCreate,
    ExperimentPage,
    ExperimentPublic,
    ExperimentStatus,
    ExperimentUpdate,
    HypothesisBase,
)
from backend.clients import kube
from backend.db.repositories import experiments as repo
from backend.spec.experiment import Verdict

router = APIRouter(
    prefix=f"{API_PREFIX}/experiments",
    tags=["experiments"],
    dependencies=[Depends(authorize(["experiments"]))],
    responses=ERROR_RESPONSES,
)
NOT_FOUND: Responses = {404: {"model": ErrorResponse, "description": "No such experiment"}}


@router.get("", response_model=ExperimentPage)
def list_experiments(
    session: SessionDep,
    scope: ScopeDep,
    namespace: Namespace | None = None,
    status: ExperimentStatus | None = None,
    verdict: Verdict | None = None,
    limit: Limit = 50,
    offset: Offset = 0,
) -> ExperimentPage:
    items, total = repo.list_experiments(
        session, namespace=namespace, status=status, verdict=verdict, namespaces=scope,
        limit=limit, offset=offset,
    )  # fmt: skip
    return ExperimentPage(
        items=[ExperimentPublic.model_validate(i) for i in items],
        total=total,
        limit=limit,
        offset=offset,
    )


@router.post(
    "",
    response_model=ExperimentPublic,
    status_code=status.HTTP_201_CREATED,
    responses={409: {"model": ErrorResponse, "description": "Name taken in the namespace"}},
)
def create_experiment(
    request: Request, session: SessionDep, body: ExperimentCreate
) -> ExperimentPublic:
    acting_in(request, body.namespace)
    return ExperimentPublic.model_validate(repo.create_experiment(session, body.model_dump()))


@router.get("/{experiment_id}", response_model=ExperimentPublic, responses=NOT_FOUND)
def get_experiment(session: SessionDep, experiment_id: PathId) -> ExperimentPublic:
    return ExperimentPublic.model_validate(repo.get_experiment(session, experiment_id))


@router.patch("/{experiment_id}", response_model=ExperimentPublic, responses=NOT_FOUND)
def update_experiment(
    session: SessionDep, experiment_id: PathId, body: ExperimentUpdate
) -> ExperimentPublic:
    changes = body.model_dump(exclude_unset=True)
    return ExperimentPublic.model_validate(repo.update_experiment(session, experiment_id, changes))


@router.delete("/{experiment_id}", status_code=status.HTTP_204_NO_CONTENT, responses=NOT_FOUND)
def delete_experiment(session: SessionDep, experiment_id: PathId) -> None:
    """Deletes the experiment and its runs, except archived runs, which are kept."""
    repo.delete_experiment(session, experiment_id)


@router.post(
    "/{experiment_id}/start",
    response_model=Accepted,
    status_code=status.HTTP_202_ACCEPTED,
    responses={
        **NOT_FOUND,
        409: {
            "model": ErrorResponse,
            "description": "Its Experiment object is still running (or being deleted)",
        },
        422: {"model": ErrorResponse, "description": "No probe or hypothesis, or a bad spec"},
        503: {"model": ErrorResponse, "description": "No Kubernetes cluster is connected"},
    },
)
def start_experiment(
    request: Request,
    principal: PrincipalDep,
    session: SessionDep,
    gateway: GatewayDep,
    experiment_id: PathId,
) -> Accepted:
    """Creates the experiment's Experiment custom resource (its spec, with its hypothesis).
    The operator runs it and reports the run, its observations and the verdict back here.
    When the object of an earlier run is still there and that run has ended, it is replaced
    (which also needs `delete` on experiments); one still running is a 409."""
    row = repo.get_experiment(session, experiment_id)
    hypothesis = (
        HypothesisBase.model_validate(row.hypothesis, from_attributes=True).claim()
        if row.hypothesis is not None
        else None
    )
    spec = experiment_spec(f"{row.namespace}/{row.name}", row.spec, hypothesis)
    detail = "created in the cluster; the run appears here once the operator starts it"
    namespace = acting_in(request, row.namespace)
    creator = principal.creator()
    try:
        uid = gateway.create("Experiment", namespace, row.name, spec, creator=creator)
    except kube.AlreadyExists:
        access = Access("delete", "experiments", namespace)
        request.app.state.authenticator.authorize(principal, access)
        uid = gateway.replace_ended("Experiment", namespace, row.name, spec, creator=creator)
        detail = f"the earlier run had ended and its Experiment object was replaced; {detail}"
    return Accepted(kind="Experiment", namespace=namespace, name=row.name, uid=uid, detail=detail)
