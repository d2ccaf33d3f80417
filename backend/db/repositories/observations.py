"""Observation time series: bulk ingest and range reads.

Ingest is the hot path (probes post thousands of points per second), so it bypasses the ORM
unit of work and hands the whole batch to the driver as one Core executemany.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import Row, insert, select
from sqlalchemy.orm import Session

from backend.db.errors import Conflict
from backend.db.models import Base, Observation
from backend.db.repositories.runs import get_run

observations = Base.metadata.tables[Observation.__tablename__]
COLUMNS = ("probe", "ts", "qps", "error_rate", "latency_p50_ms", "latency_p99_ms")


def insert_observations(session: Session, run_id: int, points: Sequence[dict[str, Any]]) -> int:
    """Stores raw points (dicts keyed by COLUMNS, ts in Unix seconds) of any of a run's probes."""
    run = get_run(session, run_id)
    if run.archived:
        raise Conflict(f"run {run_id} is archived and takes no more observations")
    if not points:
        return 0
    rows = [
        {
            "run_id": run_id,
            "probe": p["probe"],
            "ts": p["ts"],
            "qps": p["qps"],
            "error_rate": p.get("error_rate"),
            "latency_p50_ms": p.get("latency_p50_ms"),
            "latency_p99_ms": p.get("latency_p99_ms"),
            "bucket_seconds": 0,
        }
        for p in points
    ]
    session.connection().execute(insert(observations), rows)
    session.commit()
    return len(rows)


def list_observations(
    session: Session,
    run_id: int,
    *,
    since: float | None = None,
    until: float | None = None,
    probe: str | None = None,
    limit: int = 10000,
) -> list[Row[Any]]:
    get_run(session, run_id)
    stmt = (
        select(*(observations.c[name] for name in COLUMNS), observations.c.bucket_seconds)
        .where(observations.c.run_id == run_id)
        .order_by(observations.c.ts, observations.c.id)
        .limit(limit)
    )
    if since is not None:
        stmt = stmt.where(observations.c.ts >= since)
    if until is not None:
        stmt = stmt.where(observations.c.ts < until)
    if probe is not None:
        stmt = stmt.where(observations.c.probe == probe)
    return list(session.execute(stmt))
