"""APScheduler wiring for housekeeping; the work itself lives in backend.db.housekeeping."""

from __future__ import annotations

import logging
from dataclasses import asdict
from datetime import UTC, datetime

from apscheduler.schedulers.background import BackgroundScheduler
from sqlalchemy.orm import Session, sessionmaker

from backend.db.housekeeping import HousekeepingReport, run_housekeeping
from backend.settings import Settings

log = logging.getLogger("faultline.api.jobs")
HOUSEKEEPING_JOB_ID = "housekeeping"


def housekeeping_job(sessions: sessionmaker[Session], settings: Settings) -> HousekeepingReport:
    with sessions() as session:
        report = run_housekeeping(session, settings, now=datetime.now(UTC))
    log.info("housekeeping done", extra=asdict(report))
    return report


def make_scheduler(sessions: sessionmaker[Session], settings: Settings) -> BackgroundScheduler:
    scheduler = BackgroundScheduler(timezone=UTC)
    scheduler.add_job(
        housekeeping_job,
        "interval",
        seconds=settings.housekeeping_interval_seconds,
        args=(sessions, settings),
        id=HOUSEKEEPING_JOB_ID,
        # A run missed while the dashboard was down happens once on restart, not many times.
        coalesce=True,
        max_instances=1,
        next_run_time=datetime.now(UTC),
    )
    return scheduler
