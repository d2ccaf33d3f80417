"""The mirror of chaos custom resources and schedules that a cluster watcher keeps current.

The watcher calls `upsert_*` on every ADDED/MODIFIED event and `delete_*` on DELETED. Upserts
are keyed by (kind, namespace, name): a resource deleted and recreated under the same name gets a
new uid and simply replaces the old row.
"""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime
from typing import Any

from sqlalchemy import Table, delete, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from backend.db.errors import NotFound
from backend.db.models import ChaosObject, Schedule, utcnow
from backend.db.repositories.common import paginate


def _upsert(session: Session, table: Table, keys: list[str], values: dict[str, Any]) -> None:
    dialect = session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    stmt = insert(table).values(**values)
    updates = {k: stmt.excluded[k] for k in values if k not in keys}
    session.execute(stmt.on_conflict_do_update(index_elements=keys, set_=updates))
    session.commit()


def upsert_chaos_object(
    session: Session,
    *,
    kind: str,
    namespace: str,
    name: str,
    uid: str,
    spec: dict[str, Any],
    status: dict[str, Any] | None = None,
    phase: str = "",
    updated: datetime | None = None,
) -> ChaosObject:
    values = dict(
        kind=kind, namespace=namespace, name=name, uid=uid, spec=spec,
        status=status or {}, phase=phase, updated_at=updated or utcnow(),
    )  # fmt: skip
    _upsert(session, ChaosObject.__table__, ["kind", "namespace", "name"], values)  # type: ignore[arg-type]
    return get_chaos_object(session, kind, namespace, name)


def get_chaos_object(session: Session, kind: str, namespace: str, name: str) -> ChaosObject:
    stmt = select(ChaosObject).where(
        ChaosObject.kind == kind, ChaosObject.namespace == namespace, ChaosObject.name == name
    )
    obj = session.scalars(stmt.execution_options(populate_existing=True)).first()
    if obj is None:
        raise NotFound(kind, f"{namespace}/{name}")
    return obj


def list_chaos_objects(
    session: Session,
    *,
    kind: str | None = None,
    namespace: str | None = None,
    phase: str | None = None,
    namespaces: Collection[str] | None,
    limit: int = 50,
    offset: int = 0,
) -> tuple[list[ChaosObject], int]:
    """`namespaces`: those the caller may list (None: all), applied to the rows and the total."""
    stmt = select(ChaosObject).order_by(ChaosObject.namespace, ChaosObject.name, ChaosObject.kind)
    if namespaces is not None:
        stmt = stmt.where(ChaosObject.namespace.in_(namespaces))
    if kind is not None:
        stmt = stmt.where(ChaosObject.kind == kind)
    if namespace is not None:
        stmt = stmt.where(ChaosObject.namespace == namespace)
    if phase is not None:
        stmt = stmt.where(ChaosObject.phase == phase)
    return paginate(session, stmt, limit=limit, offset=offset)


def delete_chaos_object_mirror(session: Session, kind: str, namespace: str, name: str) -> bool:
    result = session.execute(
        delete(ChaosObject).where(
            ChaosObject.kind == kind, ChaosObject.namespace == namespace, ChaosObject.name == name
        )
    )
    session.commit()
    return bool(result.rowcount)  # type: ignore[attr-defined]


def upsert_schedule(
    session: Session,
    *,
    namespace: str,
    name: str,
    uid: str,
    schedule: str,
    type: str,
    spec: dict[str, Any],
    status: dict[str, Any] | None = None,
    phase: str = "",
    updated: datetime | None = None,
) -> Schedule:
    values = dict(
        namespace=namespace, name=name, uid=uid, schedule=schedule, type=type, spec=spec,
        status=status or {}, phase=phase, updated_at=updated or utcnow(),
    )  # fmt: skip
    _upsert(session, Schedule.__table__, ["namespace", "name"], values)  # type: ignore[arg-type]
    return get_schedule(session, namespace, name)


def get_schedule(session: Session, namespace: str, name: str) -> Schedule:
    stmt = select(Schedule).where(Schedule.namespace == namespace, Schedule.name == name)
    obj = session.scalars(stmt.execution_options(populate_existing=True)).first()
    if obj is None:
        raise NotFound("Schedule", f"{namespace}/{name}")
    return obj


def list_schedules(
    session: Session,
    *,
    namespace: str | None = None,
    namespaces: Collection[str] | None,
    limit: int = 50,
    offset: int = 0,
) -> tuple[list[Schedule], int]:
    """`namespaces`: those the caller may list (None: all), applied to the rows and the total."""
    stmt = select(Schedule).order_by(Schedule.namespace, Schedule.name)
    if namespaces is not None:
        stmt = stmt.where(Schedule.namespace.in_(namespaces))
    if namespace is not None:
        stmt = stmt.where(Schedule.namespace == namespace)
    return paginate(session, stmt, limit=limit, offset=offset)


def delete_schedule_mirror(session: Session, namespace: str, name: str) -> bool:
    result = session.execute(
        delete(Schedule).where(Schedule.namespace == namespace, Schedule.name == name)
    )
    session.commit()
    return bool(result.rowcount)  # type: ignore[attr-defined]
