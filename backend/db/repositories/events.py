"""Events about a run or a chaos object (what happened, when, and why)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from backend.db.models import Event
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
