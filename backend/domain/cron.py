"""Cron maths for Schedule: when does it fire next, and which run did we miss?

Supports what Chaos Mesh's Schedule accepts: 5 fields (minute hour day-of-month month
day-of-week), 6 fields (seconds first), macros (@hourly, @daily, ...) and `@every <duration>`.
As in Vixie cron, when both day-of-month and day-of-week are restricted a day matching either
one fires. Times are UTC-aware datetimes; a naive datetime is taken as UTC.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from chaosd.duration import parse_duration


class CronError(ValueError):
    """A schedule expression that cannot fire; the message names the bad field."""


_MACROS = {
    "@yearly": "0 0 1 1 *",
    "@annually": "0 0 1 1 *",
    "@monthly": "0 0 1 * *",
    "@weekly": "0 0 * * 0",
    "@daily": "0 0 * * *",
    "@midnight": "0 0 * * *",
    "@hourly": "0 * * * *",
}
_MONTHS = ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"]
_DAYS = ["sun", "mon", "tue", "wed", "thu", "fri", "sat"]
# name, lowest, highest, names for values (from lowest)
_FIELDS = [
    ("second", 0, 59, None),
    ("minute", 0, 59, None),
    ("hour", 0, 23, None),
    ("day-of-month", 1, 31, None),
    ("month", 1, 12, _MONTHS),
    ("day-of-week", 0, 7, _DAYS),
]
_SEARCH_DAYS = 366 * 5  # long enough for any satisfiable day/month pair, incl. Feb 29


@dataclass(frozen=True)
class Cron:
    seconds: frozenset[int]
    minutes: frozenset[int]
    hours: frozenset[int]
    days: frozenset[int]
    months: frozenset[int]
    weekdays: frozenset[int]
    """0 = Sunday."""
    days_restricted: bool
    weekdays_restricted: bool

    def day_matches(self, d: date) -> bool:
        if d.month not in self.months:
            return False
        in_month, in_week = d.day in self.days, (d.isoweekday() % 7) in self.weekdays
        if self.days_restricted and self.weekdays_restricted:
            return in_month or in_week
        return in_month and in_week


@dataclass(frozen=True)
class Every:
    interval: timedelta


def _value(text: str, name: str, low: int, names: list[str] | None) -> int:
    if names and text.lower() in names:
        return names.index(text.lower()) + (low if name == "month" else 0)
    if not text.isdigit():
        raise CronError(f"{name}: {text!r} is not a number")
    return int(text)


def _field(text: str, name: str, low: int, high: int, names: list[str] | None) -> set[int]:
    out: set[int] = set()
    for part in text.split(","):
        m = re.fullmatch(r"(\*|\?|[^-/]+)(?:-([^/]+))?(?:/(\d+))?", part)
        if not m:
            raise CronError(f"{name}: cannot parse {part!r}")
        start_s, end_s, step_s = m.groups()
        if start_s in ("*", "?"):
            start, end = low, high
        else:
            start = _value(start_s, name, low, names)
            end = _value(end_s, name, low, names) if end_s else (high if step_s else start)
        step = int(step_s) if step_s else 1
        if step < 1 or not (low <= start <= high and low <= end <= high) or start > end:
            raise CronError(f"{name}: {part!r} is outside {low}-{high}")
        out.update(range(start, end + 1, step))
    return out


def parse(expr: str) -> Cron | Every:
    text = expr.strip()
    if text.startswith("@every "):
        try:
            seconds = parse_duration(text[len("@every ") :].strip())
        except ValueError as e:
            raise CronError(f"schedule: {e}") from e
        if seconds <= 0:
            raise CronError("schedule: @every needs a positive duration")
        return Every(timedelta(seconds=seconds))
    text = _MACROS.get(text, text)
    parts = text.split()
    if len(parts) == 5:
        parts = ["0", *parts]
    if len(parts) != 6:
        raise CronError(f"schedule: {expr!r} needs 5 or 6 fields, a macro or @every")
    sets = [_field(p, *spec) for p, spec in zip(parts, _FIELDS, strict=True)]
    weekdays = frozenset(d % 7 for d in sets[5])
    return Cron(
        seconds=frozenset(sets[0]),
        minutes=frozenset(sets[1]),
        hours=frozenset(sets[2]),
        days=frozenset(sets[3]),
        months=frozenset(sets[4]),
        weekdays=weekdays,
        days_restricted=parts[3] not in ("*", "?"),
        weekdays_restricted=parts[5] not in ("*", "?"),
    )


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
