"""Archive-on-delete for mirrored custom resources.

When the watcher sees a chaos object, experiment or schedule disappear from the cluster, it moves
the mirror row here (with the object's final spec and status) instead of losing it, and an
Experiment's finished runs are archived with it. The cluster stays the source of truth for live
objects; the archive is the dashboard's memory of deleted ones.
"""

from __future__ import annotations

from collections.abc import Collection
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from backend.db.errors import NotFound
from backend.db.models import ArchivedObject, ChaosObject, Run, Schedule, utcnow
from backend.db.repositories.common import paginate
from backend.db.repositories.runs import FINISHED_PHASES


def _mirrored(
    session: Session, kind: str, namespace: str, name: str
) -> Schedule | ChaosObject | None:
    if kind == "Schedule":
        where = (Schedule.namespace == namespace, Schedule.name == name)
        return session.scalars(select(Schedule).where(*where)).first()
    return session.scalars(
        select(ChaosObject).where(
            ChaosObject.kind == kind, ChaosObject.namespace == namespace, ChaosObject.name == name
        )
    ).first()


def archive_deleted(
    session: Session, kind: str, namespace: str, name: str, final: dict[str, Any] | None = None
) -> ArchivedObject | None:
    """Moves the mirror row of a deleted resource into the archive, in one transaction.

    `final` is the object of the DELETED watch event (its last state); without it (an object
    deleted while nobody watched) the mirror row's state is kept. Returns None when the object
    was never mirrored and no final state is known."""
    row = _mirrored(session, kind, namespace, name)
    if final is not None:
        status = final.get("status") or {}
        uid, spec, phase = final["metadata"]["uid"], final.get("spec") or {}, status.get("phase")
    elif row is not None:
        uid, spec, status, phase = row.uid, row.spec, row.status, row.phase
    else:
        return None
    archived = session.scalars(select(ArchivedObject).where(ArchivedObject.uid == uid)).first()
    if archived is None:
        archived = ArchivedObject(
            kind=kind, namespace=namespace, name=name, uid=uid, spec=spec, status=status,
            phase=str(phase or ""), archived_at=utcnow(),
        )  # fmt: skip
        session.add(archived)
    if row is not None:
        session.delete(row)
    if kind == "Experiment":
        session.execute(
            update(Run)
            .where(
                Run.namespace == namespace,
                Run.experiment_name == name,
                Run.phase.in_(FINISHED_PHASES),
                Run.archived.is_(False),
            )
            .values(archived=True, archived_at=utcnow())
        )
    session.commit()
    return archived


def list_archived_objects(
    session: Session,
    *,
    kind: str | None = None,
    namespace: str | None = None,
    namespaces: Collection[str] | None,
    limit: int = 50,
    offset: int = 0,
) -> tuple[list[ArchivedObject], int]:
    """`namespaces`: those the caller may list (None: all), applied to the rows and the total."""
    stmt = select(ArchivedObject).order_by(ArchivedObject.id.desc())
    if namespaces is not None:
        stmt = stmt.where(ArchivedObject.namespace.in_(namespaces))
    if kind is not None:
        stmt = stmt.where(ArchivedObject.kind == kind)
    if namespace is not None:
        stmt = stmt.where(ArchivedObject.namespace == namespace)
    return paginate(session, stmt, limit=limit, offset=offset)


def get_archived_object(session: Session, archive_id: int) -> ArchivedObject:
    obj = session.get(ArchivedObject, archive_id)
    if obj is None:
        raise NotFound("archived object", archive_id)
    return obj
