"""When a Schedule runs: its next run after a given time, and the run that is due now.

The expressions (5 or 6 fields, macros, `@every <duration>`) are parsed by backend.spec.cron;
cron fire times come from cronsim (Vixie cron's rules). `@every` runs are aligned on an anchor,
the Schedule's creation, so the operator computes the same times before and after a restart.
Times are UTC-aware datetimes; a naive datetime is taken as UTC.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from cronsim import CronSim

# The grammar lives in spec so the offline validator refuses what the operator cannot run.
from backend.spec.cron import Cron, CronError, Every, parse

__all__ = ["Cron", "CronError", "Every", "due_run", "next_run", "parse"]


def _utc(t: datetime) -> datetime:
    return t.replace(tzinfo=UTC) if t.tzinfo is None else t.astimezone(UTC)


def _fire(sched: Cron, start: datetime, *, reverse: bool = False) -> datetime | None:
    """cronsim's first fire time strictly after (or before) `start`; None if there is none
    within the 50 years it searches."""
    try:
        return next(CronSim(sched.expr, start, reverse=reverse))
    except StopIteration:
        return None


def next_run(sched: Cron | Every, anchor: datetime, after: datetime) -> datetime:
    """The first run strictly after `after`; `@every` runs are anchor + n * interval."""
    anchor, after = _utc(anchor), _utc(after)
    if isinstance(sched, Every):
        if after < anchor:
            return anchor + sched.interval
        done = (after - anchor) // sched.interval
        return anchor + sched.interval * (done + 1)
    fire = _fire(sched, after)
    if fire is None:
        raise CronError(f"schedule: {sched.expr!r} never fires")
    return fire


def due_run(
    sched: Cron | Every, anchor: datetime, last: datetime | None, now: datetime
) -> datetime | None:
    """The latest run time in (last run, now], never at or before `anchor`: the run to start
    now, if any. Older missed runs are superseded by it, as with a CronJob."""
    anchor, now = _utc(anchor), _utc(now)
    after = max(_utc(last), anchor) if last else anchor
    if isinstance(sched, Every):
        latest: datetime | None = next_run(sched, anchor, now) - sched.interval
    else:
        # Backwards from just after `now`, so that a run at `now` itself counts.
        latest = _fire(sched, now.replace(microsecond=0) + timedelta(seconds=1), reverse=True)
    return latest if latest is not None and latest > after else None
