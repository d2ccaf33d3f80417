"""Pagination shared by every list query."""

from __future__ import annotations

from typing import Any, TypeVar

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

T = TypeVar("T")


def paginate(session: Session, stmt: Select[T], *, limit: int, offset: int) -> tuple[list[T], int]:
    """One page of `stmt` plus the total row count, so clients can render page numbers."""
    total = session.scalar(select(func.count()).select_from(stmt.order_by(None).subquery()))
    items = list(session.scalars(stmt.limit(limit).offset(offset)))
    return items, int(total or 0)


def apply_changes(obj: Any, changes: dict[str, Any]) -> None:
    for key, value in changes.items():
        setattr(obj, key, value)
