"""The grammar of a Schedule's `schedule` field: what a valid expression is and what it means.

It lives in spec, not domain, because `validate_manifest` (the CLI, the dashboard API and the
admission webhook) must refuse the same expressions the operator cannot run, and spec imports
nothing above it. backend.domain.cron computes the fire times from what `parse` returns.

Cron fields are cronsim's, which follows Vixie (Debian) cron: 5 fields (minute hour
day-of-month month day-of-week) or 6 (seconds first), names (jan, mon), lists, ranges, steps,
`L`/`LW` in day-of-month and `5L`/`5#2` in day-of-week. When day-of-month and day-of-week are
both restricted (neither starts with `*`), a day matching either fires. This layer adds what
Chaos Mesh's Schedule accepts and cronsim does not: the macros (@hourly, @daily, ...), `?` for
`*`, and `@every <duration>`; and errors that name the field and the part of it at fault, where
cronsim only says "Bad minute".
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from cronsim import CronSim, CronSimError

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
# cronsim's fields, seconds first: name, the numbers it takes, the other forms it takes.
_FIELDS = [
    ("second", range(60), ""),
    ("minute", range(60), ""),
    ("hour", range(24), ""),
    ("day-of-month", range(1, 32), ", L (last day), LW (last weekday)"),
    ("month", range(1, 13), ", jan-dec"),
    ("day-of-week", range(8), " (0 and 7 are Sunday), sun-sat, 5L (last Friday), 5#2"),
]
# cronsim checks an expression when it is built, from any start time.
_ANY_TIME = datetime(2000, 1, 1, tzinfo=UTC)


@dataclass(frozen=True)
class Cron:
    expr: str
    """Six fields, seconds first, as cronsim reads them."""


@dataclass(frozen=True)
class Every:
    interval: timedelta


def _refusal(fields: list[str]) -> CronSimError | None:
    try:
        CronSim(" ".join(fields), _ANY_TIME)
    except CronSimError as e:
        return e
    return None


def _explain(fields: list[str]) -> CronError:
    """Which part of which field cronsim refused, and what that field takes."""
    for i, (name, numbers, forms) in enumerate(_FIELDS):
        alone = ["*"] * 6
        for part in fields[i].split(","):
            alone[i] = part
            if _refusal(alone) is None:
                continue
            values = [int(n) for n in re.findall(r"\d+", re.split("[/#]", part)[0])]
            if any(v not in numbers for v in values):
                return CronError(f"{name}: {part!r} is outside {numbers[0]}-{numbers[-1]}")
            return CronError(
                f"{name}: cannot parse {part!r}: it takes {numbers[0]}-{numbers[-1]}{forms}, "
                "lists (1,5), ranges in order (1-5) and steps (*/5, 1-30/5)"
            )
    # Every part is valid on its own: the days asked for exist in none of the months.
    return CronError(f"never fires: no month in {fields[4]!r} has the day {fields[3]!r}")


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
    fields = _MACROS.get(text, text).replace("?", "*").split()
    if len(fields) == 5:
        fields = ["0", *fields]
    if len(fields) != 6:
        raise CronError("needs 5 or 6 fields, a macro such as @hourly, or @every <duration>")
    if _refusal(fields) is not None:
        raise _explain(fields)
    return Cron(" ".join(fields))
