"""Experiments and hypotheses: the definitions users write in the dashboard."""

from __future__ import annotations

from collections.abc import Collection
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from backend.db.errors import Conflict, InvalidReference, NotFound
from backend.db.models import Experiment, Hypothesis, Run
from backend.db.repositories.common import apply_changes, paginate


def _check_hypothesis(session: Session, hypothesis_id: int | None, namespace: str) -> None:
    """An experiment uses a hypothesis of its own namespace only: one of another namespace is
    answered as missing, so ids do not tell what other namespaces hold."""
    if hypothesis_id is None:
        return
    found = session.get(Hypothesis, hypothesis_id)
    if found is None or found.namespace != namespace:
        raise InvalidReference(
            "hypothesis_id",
            f"hypothesis {hypothesis_id} does not exist in namespace {namespace!r} "
            "(an experiment uses a hypothesis of its own namespace)",
        )


def list_experiments(
    session: Session,
    *,
    namespace: str | None = None,
    status: str | None = None,
    verdict: str | None = None,
    namespaces: Collection[str] | None,
    limit: int = 50,
    offset: int = 0,
) -> tuple[list[Experiment], int]:
    """`namespaces`: those the caller may list (None: all), applied to the rows and the total."""
    stmt = select(Experiment).order_by(Experiment.id)
    if namespaces is not None:
        stmt = stmt.where(Experiment.namespace.in_(namespaces))
    if namespace is not None:
        stmt = stmt.where(Experiment.namespace == namespace)
    if status is not None:
        stmt = stmt.where(Experiment.status == status)
    if verdict is not None:
        stmt = stmt.where(Experiment.verdict == verdict)
    return paginate(session, stmt, limit=limit, offset=offset)


def get_experiment(session: Session, experiment_id: int) -> Experiment:
    experiment = session.get(Experiment, experiment_id)
    if experiment is None:
        raise NotFound("experiment", experiment_id)
    return experiment


def _commit_experiment(session: Session, experiment: Experiment) -> Experiment:
    try:
        session.commit()
    except IntegrityError as e:
        session.rollback()
        raise Conflict(
            f"an experiment named {experiment.name!r} already exists in namespace "
            f"{experiment.namespace!r}"
        ) from e
    session.refresh(experiment)
    return experiment


def create_experiment(session: Session, values: dict[str, Any]) -> Experiment:
    _check_hypothesis(session, values.get("hypothesis_id"), values["namespace"])
    experiment = Experiment(**values)
    session.add(experiment)
    return _commit_experiment(session, experiment)


def update_experiment(session: Session, experiment_id: int, changes: dict[str, Any]) -> Experiment:
    experiment = get_experiment(session, experiment_id)
    if "hypothesis_id" in changes:
        _check_hypothesis(session, changes["hypothesis_id"], experiment.namespace)
    apply_changes(experiment, changes)
    return _commit_experiment(session, experiment)


def delete_experiment(session: Session, experiment_id: int) -> None:
    """Deletes the experiment and its unarchived runs; archived runs are kept on purpose."""
    experiment = get_experiment(session, experiment_id)
    session.execute(delete(Run).where(Run.experiment_id == experiment_id, Run.archived.is_(False)))
    session.delete(experiment)
    session.commit()


def list_hypotheses(
    session: Session,
    *,
    namespace: str | None = None,
    namespaces: Collection[str] | None,
    limit: int = 50,
    offset: int = 0,
) -> tuple[list[Hypothesis], int]:
    stmt = select(Hypothesis).order_by(Hypothesis.id)
    if namespace is not None:
        stmt = stmt.where(Hypothesis.namespace == namespace)
    if namespaces is not None:
        stmt = stmt.where(Hypothesis.namespace.in_(namespaces))
    return paginate(session, stmt, limit=limit, offset=offset)


def get_hypothesis(session: Session, hypothesis_id: int) -> Hypothesis:
    hypothesis = session.get(Hypothesis, hypothesis_id)
    if hypothesis is None:
        raise NotFound("hypothesis", hypothesis_id)
    return hypothesis


def create_hypothesis(session: Session, values: dict[str, Any]) -> Hypothesis:
    hypothesis = Hypothesis(**values)
    session.add(hypothesis)
    session.commit()
    session.refresh(hypothesis)
    return hypothesis


def update_hypothesis(session: Session, hypothesis_id: int, changes: dict[str, Any]) -> Hypothesis:
    hypothesis = get_hypothesis(session, hypothesis_id)
    apply_changes(hypothesis, changes)
    session.commit()
    session.refresh(hypothesis)
    return hypothesis


def delete_hypothesis(session: Session, hypothesis_id: int) -> None:
    session.delete(get_hypothesis(session, hypothesis_id))
    session.commit()
