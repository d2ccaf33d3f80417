"""Every namespace the dashboard's database holds a row of: the candidates a namespaced user's
list is checked against (one SubjectAccessReview per namespace), so lists need no cluster-wide
`list` and a namespace without rows costs nothing."""

from __future__ import annotations

from sqlalchemy import select, union
from sqlalchemy.orm import Session

from backend.db.models import ArchivedObject, ChaosObject, Experiment, Hypothesis, Run, Schedule


def known_namespaces(session: Session) -> list[str]:
    """Sorted; each table's namespace column is indexed, so this stays cheap."""
    tables = (Experiment, Hypothesis, Run, ChaosObject, Schedule, ArchivedObject)
    stmt = union(*(select(t.namespace).distinct() for t in tables))
    return sorted(str(ns) for ns in session.scalars(stmt))
