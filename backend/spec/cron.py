"""The grammar of a Schedule's `schedule` field: what a valid expression is and what it means.

It lives in spec, not domain, because `validate_manifest` (the CLI, the dashboard API and the
admission webhook) must refuse the same expressions the operator cannot run, and spec imports
nothing above it. backend.domain.cron builds the fire-time maths on this one parser.

Supports what Chaos Mesh's Schedule accepts: 5 fields (minute hour day-of-month month
day-of-week), 6 fields (seconds first), macros (@hourly, @daily, ...) and `@every <duration>`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, timedelta

from chaosd.duration import parse_duration


class CronError(ValueError):
    """A schedule expression that cannot fire; the message names the bad part."""


EVERY_MIN = "1s"
"""A run's chaos object is named after the second it fires, so two runs in one second clash."""
EVERY_MAX = "8760h"
"""A year: longer intervals are better written as a cron expression, and the bound keeps the
fire-time arithmetic inside what datetime can hold."""

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
_LEAP_YEAR = 2024  # month lengths with February 29, which some year always has


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
        """As in Vixie cron: when both day fields are restricted, a day matching either fires."""
        if d.month not in self.months:
            return False
        in_month, in_week = d.day in self.days, (d.isoweekday() % 7) in self.weekdays
        if self.days_restricted and self.weekdays_restricted:
            return in_month or in_week
        return in_month and in_week

    def can_fire(self) -> bool:
        """False when no calendar day matches (e.g. February 30)."""
        if self.weekdays_restricted and self.days_restricted:
            return True  # either field may match, and every weekday occurs in every month
        return any(_fits(day, month) for month in self.months for day in self.days)


def _fits(day: int, month: int) -> bool:
    try:
        date(_LEAP_YEAR, month, day)
    except ValueError:
        return False
    return True


@dataclass(frozen=True)
class Every:
    interval: timedelta


def _value(text: str, name: str, low: int, names: list[str] | None) -> int:
    if names and text.lower() in names:
        return names.index(text.lower()) + (low if name == "month" else 0)
    if not text.isascii() or not text.isdigit():
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


def _every(text: str) -> Every:
    try:
        seconds = parse_duration(text)
    except ValueError as e:
        raise CronError(str(e)) from e
    if seconds <= 0:
        raise CronError("@every needs a positive duration")
    if seconds < parse_duration(EVERY_MIN):
        raise CronError(f"@every needs at least {EVERY_MIN} between runs")
    if seconds > parse_duration(EVERY_MAX):
        raise CronError(f"@every allows at most {EVERY_MAX}; write longer ones as cron fields")
    return Every(timedelta(seconds=seconds))


def parse(expr: str) -> Cron | Every:
    """The meaning of a schedule expression; CronError names what is wrong with a bad one."""
    text = expr.strip()
    if text.startswith("@every "):
        return _every(text[len("@every ") :].strip())
    text = _MACROS.get(text, text)
    parts = text.split()
    if len(parts) == 5:
        parts = ["0", *parts]
    if len(parts) != 6:
        raise CronError("needs 5 or 6 fields, a macro such as @hourly, or @every <duration>")
    sets = [_field(p, *spec) for p, spec in zip(parts, _FIELDS, strict=True)]
    sched = Cron(
        seconds=frozenset(sets[0]),
        minutes=frozenset(sets[1]),
        hours=frozenset(sets[2]),
        days=frozenset(sets[3]),
        months=frozenset(sets[4]),
        weekdays=frozenset(d % 7 for d in sets[5]),
        days_restricted=parts[3] not in ("*", "?"),
        weekdays_restricted=parts[5] not in ("*", "?"),
    )
    if not sched.can_fire():
        raise CronError("never fires: no month has that day")
    return sched
