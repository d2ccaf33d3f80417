"""The APScheduler side of the Schedule controller: one process-wide background scheduler with
one job per Schedule (keyed by its uid), and the trigger that wakes each job at its cron times.

Kept apart from the kopf handlers so the wake-up can drop the job of a deleted Schedule without
importing the handlers.
"""

from __future__ import annotations

import threading
from datetime import UTC, datetime

from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.triggers.base import BaseTrigger

from backend.domain import cron


class ScheduleTrigger(BaseTrigger):  # type: ignore[misc]
    """An APScheduler trigger over backend.domain.cron, so the wake-ups, the status'
    nextScheduleTime and the due-run maths all come from the same code."""

    __slots__ = ("anchor", "sched")

    def __init__(self, expr: str, anchor: datetime) -> None:
        self.sched = cron.parse(expr)
        self.anchor = anchor

    def get_next_fire_time(
        self, previous_fire_time: datetime | None, now: datetime
    ) -> datetime | None:
        after = max(previous_fire_time, now) if previous_fire_time else now
        return cron.next_run(self.sched, self.anchor, after.astimezone(UTC))


_scheduler: BackgroundScheduler | None = None
_scheduler_guard = threading.Lock()


def scheduler() -> BackgroundScheduler:
    global _scheduler
    with _scheduler_guard:
        if _scheduler is None:
            _scheduler = BackgroundScheduler(
                timezone=UTC,
                # A late wake-up still runs (the deadline logic decides); piled-up wake-ups
                # collapse into one, and one Schedule never runs twice at once.
                job_defaults={"coalesce": True, "max_instances": 1, "misfire_grace_time": None},
            )
            _scheduler.start()
        return _scheduler


def forget(uid: str) -> None:
    sched = _scheduler
    if sched is not None and sched.get_job(uid) is not None:
        sched.remove_job(uid)


def shutdown() -> None:
    global _scheduler
    with _scheduler_guard:
        if _scheduler is not None:
            _scheduler.shutdown(wait=False)
            _scheduler = None
