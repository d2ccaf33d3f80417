"""Runs of an experiment, their archive flag, and the experiment summary they drive."""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from backend.db.errors import Conflict, NotFound
from backend.db.models import Experiment, Run, utcnow
from backend.db.repositories.common import apply_changes, paginate
from backend.db.repositories.experiments import get_experiment

FINISHED_PHASES = {"Finished": "finished", "Aborted": "aborted", "Failed": "failed"}
"""Terminal run phases and the experiment status each one leaves behind."""


def get_run(session: Session, run_id: int) -> Run:
    run = session.get(Run, run_id)
    if run is None:
        raise NotFound("run", run_id)
    return run


def list_runs(
    session: Session,
    *,
    experiment_id: int | None = None,
    archived: bool | None = None,
    namespace: str | None = None,
    namespaces: Collection[str] | None,
    limit: int = 50,
    offset: int = 0,
) -> tuple[list[Run], int]:
    """`namespaces`: those the caller may list (None: all), applied to the rows and the total."""
    stmt = select(Run).order_by(Run.id.desc())
    if namespaces is not None:
        stmt = stmt.where(Run.namespace.in_(namespaces))
    if experiment_id is not None:
        stmt = stmt.where(Run.experiment_id == experiment_id)
    if archived is not None:
        stmt = stmt.where(Run.archived.is_(archived))
    if namespace is not None:
        stmt = stmt.where(Run.namespace == namespace)
    return paginate(session, stmt, limit=limit, offset=offset)


def _sync_experiment(experiment: Experiment, run: Run) -> None:
    """The experiment row summarises its latest run so lists filter without joins."""
    experiment.status = FINISHED_PHASES.get(run.phase, "running")
    if run.phase in FINISHED_PHASES:
        experiment.verdict = run.verdict


def create_run(session: Session, experiment_id: int, values: dict[str, Any]) -> Run:
    experiment = get_experiment(session, experiment_id)
    run = Run(
        experiment_id=experiment.id,
        namespace=experiment.namespace,
        experiment_name=experiment.name,
        **values,
    )
    if run.started_at is None:
        run.started_at = utcnow()
    session.add(run)
    _sync_experiment(experiment, run)
    session.commit()
    session.refresh(run)
    return run


def update_run(session: Session, run_id: int, changes: dict[str, Any]) -> Run:
    run = get_run(session, run_id)
    if run.archived:
        raise Conflict(f"run {run_id} is archived and can no longer change")
    apply_changes(run, changes)
    if run.phase in FINISHED_PHASES and run.finished_at is None:
        run.finished_at = utcnow()
    if run.experiment_id is not None:
        latest = session.scalar(
            select(Run.id).where(Run.experiment_id == run.experiment_id).order_by(Run.id.desc())
        )
        if latest == run.id:
            _sync_experiment(get_experiment(session, run.experiment_id), run)
    session.commit()
    session.refresh(run)
    return run


def archive_run(session: Session, run_id: int, *, now: datetime | None = None) -> Run:
    """Keeps a finished run (and its observations/events) after its custom resource is gone."""
    run = get_run(session, run_id)
    if run.phase not in FINISHED_PHASES:
        raise Conflict(
            f"run {run_id} is in phase {run.phase}; only finished runs "
            f"({', '.join(FINISHED_PHASES)}) can be archived"
        )
    if not run.archived:
        run.archived = True
        run.archived_at = now or utcnow()
        session.commit()
        session.refresh(run)
    return run


def delete_archived_run(session: Session, run_id: int) -> None:
    run = get_run(session, run_id)
    if not run.archived:
        raise NotFound("archived run", run_id)
    session.delete(run)
    session.commit()
