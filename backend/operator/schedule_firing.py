"""When a Schedule's run is due and whether it starts: pure decisions, no I/O.

Kept apart from the wake-up so the run maths (missed runs, deadlines, Forbid, pause) can be
unit-tested without an API server (tests/unit/schedule).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Literal

from backend.domain import cron
from backend.spec.emergency import EmergencyStop


def parse_time(text: str | None) -> datetime | None:
    return datetime.fromisoformat(text).astimezone(UTC) if text else None


def iso(t: datetime) -> str:
    return t.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def next_run(sched: cron.Cron | cron.Every, anchor: datetime, after: datetime) -> datetime:
    """The first run strictly after `after`. `@every` runs are aligned on `anchor` (the
    Schedule's creation), so the operator computes the same times before and after a restart."""
    if isinstance(sched, cron.Every):
        if after < anchor:
            return anchor + sched.interval
        done = (after - anchor) // sched.interval
        return anchor + sched.interval * (done + 1)
    return cron.next_fire(sched, after)


def due_run(
    sched: cron.Cron | cron.Every, anchor: datetime, last: datetime | None, now: datetime
) -> datetime | None:
    """The latest run time in (last run, now]: the run to start now, if any. Older missed runs
    are superseded by it, as with a CronJob."""
    after = max(last, anchor) if last else anchor
    if isinstance(sched, cron.Every):
        latest = next_run(sched, anchor, now) - sched.interval
        return latest if latest > after else None
    due, t = None, cron.next_fire(sched, after)
    if t > now:
        return None
    # Skip ahead in big steps after a long outage instead of walking every missed run.
    for back in (timedelta(minutes=1), timedelta(hours=1), timedelta(days=1)):
        if now - back > t:
            probe = cron.next_fire(sched, now - back)
            if probe <= now:
                t = probe
                break
    while t <= now:
        due, t = t, cron.next_fire(sched, t)
    return due


Action = Literal["wait", "start", "skip"]


@dataclass(frozen=True)
class Decision:
    action: Action
    reason: str = ""
    """Why a due run is skipped: Paused, Forbidden (previous run active), MissedDeadline."""


def decide(
    due: datetime | None,
    now: datetime,
    *,
    starting_deadline_seconds: int | None,
    active: int,
    policy: str,
    paused: bool,
    halted: bool = False,
) -> Decision:
    """Start the due run, or say why not (`halted`: the emergency stop is engaged)."""
    if due is None:
        return Decision("wait")
    if halted:
        return Decision("skip", "EmergencyStop")
    if paused:
        return Decision("skip", "Paused")
    late = (now - due).total_seconds()
    if starting_deadline_seconds is not None and late > starting_deadline_seconds:
        return Decision("skip", "MissedDeadline")
    if policy == "Forbid" and active > 0:
        return Decision("skip", "Forbidden")
    return Decision("start")


def skip_message(reason: str, due: datetime, stop: EmergencyStop | None = None) -> str:
    if reason == "EmergencyStop":
        return (stop or EmergencyStop()).refusal(f"the run due at {iso(due)} was skipped")
    text = {
        "Paused": "the Schedule is paused",
        "Forbidden": "the previous run is still active (concurrencyPolicy Forbid)",
        "MissedDeadline": "it was missed by more than startingDeadlineSeconds",
    }[reason]
    return f"skipped the run due at {iso(due)}: {text}"
