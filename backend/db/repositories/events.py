"""Events about a run or a chaos object (what happened, when, and why)."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import func, insert, select
from sqlalchemy.orm import Session

from backend.db.models import Event, Run
from backend.db.repositories.common import paginate


def record_events(
    session: Session,
    events: Sequence[dict[str, Any]],
    *,
    run_id: int | None = None,
    chaos_object_id: int | None = None,
) -> int:
    """Stores events (dicts with ts, type, reason, message) for one run or chaos object."""
    if not events:
        return 0
    rows = [{**e, "run_id": run_id, "chaos_object_id": chaos_object_id} for e in events]
    session.execute(insert(Event), rows)
    session.commit()
    return len(rows)


def list_events(
    session: Session,
    *,
    run_id: int | None = None,
    chaos_object_id: int | None = None,
    type: str | None = None,
    limit: int = 100,
    offset: int = 0,
) -> tuple[list[Event], int]:
    stmt = select(Event).order_by(Event.ts, Event.id)
    if run_id is not None:
        stmt = stmt.where(Event.run_id == run_id)
    if chaos_object_id is not None:
        stmt = stmt.where(Event.chaos_object_id == chaos_object_id)
    if type is not None:
        stmt = stmt.where(Event.type == type)
    return paginate(session, stmt, limit=limit, offset=offset)


def list_run_events(
    session: Session,
    *,
    namespace: str | None = None,
    experiment_id: int | None = None,
    type: str | None = None,
    reason: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    namespaces: Collection[str] | None,
    limit: int = 100,
    offset: int = 0,
) -> tuple[list[tuple[Event, str, int | None, str]], int]:
    """Run events across experiments, newest first, each with its run's namespace, experiment
    id and experiment name; plus the total count for paging. `namespaces`: those the caller
    may list (None: all), applied to the rows and the total."""
    stmt = select(Event, Run.namespace, Run.experiment_id, Run.experiment_name).join(
        Run, Event.run_id == Run.id
    )
    if namespaces is not None:
        stmt = stmt.where(Run.namespace.in_(namespaces))
    if namespace is not None:
        stmt = stmt.where(Run.namespace == namespace)
    if experiment_id is not None:
        stmt = stmt.where(Run.experiment_id == experiment_id)
    if type is not None:
        stmt = stmt.where(Event.type == type)
    if reason is not None:
        stmt = stmt.where(Event.reason == reason)
    if since is not None:
        stmt = stmt.where(Event.ts >= since)
    if until is not None:
        stmt = stmt.where(Event.ts < until)
    total = session.scalar(select(func.count()).select_from(stmt.subquery()))
    rows = session.execute(
        stmt.order_by(Event.ts.desc(), Event.id.desc()).limit(limit).offset(offset)
    )
    return [(event, ns, exp_id, name) for event, ns, exp_id, name in rows], int(total or 0)
