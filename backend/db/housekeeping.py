"""Housekeeping that keeps the database small: retention and observation downsampling.

Each function takes `now` so tests (and a catch-up after downtime) control time explicitly.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, insert, select
from sqlalchemy.orm import Session

from backend.db.downsampling import Point, bucket_start, downsample
from backend.db.models import Base, Event, Observation, Run
from backend.settings import Settings

observations = Base.metadata.tables[Observation.__tablename__]


@dataclass
class HousekeepingReport:
    archived_runs_deleted: int = 0
    events_deleted: int = 0
    observations_merged: int = 0
    buckets_written: int = 0


def apply_retention(
    session: Session, *, now: datetime, days: int, report: HousekeepingReport
) -> None:
    cutoff = now - timedelta(days=days)
    runs = session.execute(delete(Run).where(Run.archived.is_(True), Run.archived_at < cutoff))
    events = session.execute(delete(Event).where(Event.ts < cutoff))
    session.commit()
    report.archived_runs_deleted += runs.rowcount  # type: ignore[attr-defined]
    report.events_deleted += events.rowcount  # type: ignore[attr-defined]


def downsample_observations(
    session: Session,
    *,
    now: datetime,
    older_than_seconds: int,
    bucket_seconds: int,
    report: HousekeepingReport,
) -> None:
    """Replaces raw points older than the cutoff by one point per bucket and probe, run by run.

    The cutoff is aligned down to a bucket boundary so only complete buckets are merged; a later
    pass never sees half of a bucket it already merged.
    """
    cutoff = bucket_start(now.timestamp() - older_than_seconds, bucket_seconds)
    raw = (observations.c.bucket_seconds == 0) & (observations.c.ts < cutoff)
    run_ids = session.scalars(select(observations.c.run_id).where(raw).distinct()).all()
    for run_id in run_ids:
        where = raw & (observations.c.run_id == run_id)
        rows = session.execute(
            select(
                observations.c.probe, observations.c.ts, observations.c.qps,
                observations.c.error_rate, observations.c.latency_p50_ms,
                observations.c.latency_p99_ms,
            ).where(where)
        ).all()  # fmt: skip
        series: dict[str, list[Point]] = {}
        for probe, *values in rows:
            series.setdefault(probe, []).append(Point(*values))
        merged = [
            {**vars(p), "probe": probe, "run_id": run_id, "bucket_seconds": bucket_seconds}
            for probe, points in series.items()
            for p in downsample(points, bucket_seconds)
        ]
        session.execute(delete(observations).where(where))
        session.execute(insert(observations), merged)
        session.commit()  # one transaction per run: a crash never loses a run's data
        report.observations_merged += len(rows)
        report.buckets_written += len(merged)


def run_housekeeping(session: Session, settings: Settings, *, now: datetime) -> HousekeepingReport:
    report = HousekeepingReport()
    apply_retention(session, now=now, days=settings.retention_days, report=report)
    downsample_observations(
        session,
        now=now,
        older_than_seconds=settings.downsample_after_seconds,
        bucket_seconds=settings.downsample_bucket_seconds,
        report=report,
    )
    return report
