"""Cron maths for Schedule: when does it fire next, and which run did we miss?

The expressions themselves (5 or 6 fields, macros, `@every <duration>`) are parsed by
backend.spec.cron. As in Vixie cron, when both day-of-month and day-of-week are restricted a day
matching either one fires. Times are UTC-aware datetimes; a naive datetime is taken as UTC.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

# The grammar lives in spec so the offline validator refuses what the operator cannot run.
from backend.spec.cron import Cron, CronError, Every, parse

__all__ = ["Cron", "CronError", "Every", "last_missed", "next_fire", "parse", "should_start"]

_SEARCH_DAYS = 366 * 5  # long enough for any satisfiable day/month pair, incl. Feb 29


def _utc(t: datetime) -> datetime:
    return t.replace(tzinfo=UTC) if t.tzinfo is None else t.astimezone(UTC)


def next_fire(expr: str | Cron | Every, after: datetime) -> datetime:
    """The first fire time strictly after `after` (for @every: `after` + the interval)."""
    sched = parse(expr) if isinstance(expr, str) else expr
    after = _utc(after)
    if isinstance(sched, Every):
        return after + sched.interval
    start = after.replace(microsecond=0) + timedelta(seconds=1)
    day = start.date()
    for _ in range(_SEARCH_DAYS):
        if sched.day_matches(day):
            first = start if day == start.date() else None
            for h in sorted(sched.hours):
                if first and h < first.hour:
                    continue
                for m in sorted(sched.minutes):
                    if first and (h, m) < (first.hour, first.minute):
                        continue
                    for s in sorted(sched.seconds):
                        t = datetime(day.year, day.month, day.day, h, m, s, tzinfo=UTC)
                        if t >= start:
                            return t
        day += timedelta(days=1)
    raise CronError(f"schedule: {expr!r} never fires")


def last_missed(expr: str, last: datetime, now: datetime) -> datetime | None:
    """The latest fire time in (last, now], i.e. the run that is due now, if any."""
    sched = parse(expr)
    last, now = _utc(last), _utc(now)
    # Look back over growing windows so a long outage does not walk through every missed run.
    for window in (
        timedelta(minutes=1),
        timedelta(hours=1),
        timedelta(days=1),
        timedelta(days=400),
    ):
        due, t = None, next_fire(sched, max(last, now - window))
        while t <= now:
            due, t = t, next_fire(sched, t)
        if due is not None or now - window <= last:
            return due
    due, t = None, next_fire(sched, last)
    while t <= now:
        due, t = t, next_fire(sched, t)
    return due


def should_start(
    due: datetime, now: datetime, starting_deadline_seconds: int | None, active: int, policy: str
) -> bool:
    """Start the due run? Not if it is past its deadline, nor while one runs under Forbid."""
    late = (_utc(now) - _utc(due)).total_seconds()
    if starting_deadline_seconds is not None and late > starting_deadline_seconds:
        return False
    return not (policy == "Forbid" and active > 0)
