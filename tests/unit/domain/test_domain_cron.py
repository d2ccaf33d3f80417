"""Schedule cron maths: 5 and 6 fields, macros, @every, day-of-month OR day-of-week, the due run
after an outage, and errors that name the part of the expression at fault."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from backend.domain.cron import Cron, CronError, due_run, next_run, parse


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


@pytest.mark.parametrize(
    ("expr", "after", "expected"),
    [
        ("*/5 * * * *", "2026-03-01T10:02:30", "2026-03-01T10:05:00"),
        ("*/5 * * * *", "2026-03-01T10:05:00", "2026-03-01T10:10:00"),
        ("30 */10 * * * *", "2026-03-01T10:00:31", "2026-03-01T10:10:30"),  # seconds first
        ("*/15 * * * * *", "2026-03-01T10:00:15", "2026-03-01T10:00:30"),
        ("0 9 * * mon-fri", "2026-03-06T09:00:00", "2026-03-09T09:00:00"),  # Fri -> Mon
        ("0 9 * * 1-5", "2026-03-06T09:00:00", "2026-03-09T09:00:00"),  # 0=Sunday numbering
        ("0 0 * * 0", "2026-03-02T00:00:00", "2026-03-08T00:00:00"),
        ("0 0 * * 7", "2026-03-02T00:00:00", "2026-03-08T00:00:00"),  # 7 is Sunday too
        ("0 0 13 * 5", "2026-03-01T00:00:00", "2026-03-06T00:00:00"),  # 13th OR Friday
        ("0 0 13 * 5", "2026-03-06T00:00:00", "2026-03-13T00:00:00"),
        ("0 0 1 * mon", "2026-03-02T00:00:00", "2026-03-09T00:00:00"),  # 1st OR Monday
        # A day field starting with `*` does not restrict: odd days that are Fridays.
        ("0 0 */2 * 5", "2026-03-01T00:00:00", "2026-03-13T00:00:00"),
        ("0 0 ? * mon", "2026-03-01T00:00:00", "2026-03-02T00:00:00"),  # ? is *
        ("0 0 29 2 *", "2026-03-01T00:00:00", "2028-02-29T00:00:00"),
        ("0 0 L * *", "2026-02-01T00:00:00", "2026-02-28T00:00:00"),  # last day
        ("0 0 LW * *", "2026-05-01T00:00:00", "2026-05-29T00:00:00"),  # last weekday
        ("0 0 * * 5L", "2026-03-01T00:00:00", "2026-03-27T00:00:00"),  # last Friday
        ("0 0 * * 5#2", "2026-03-01T00:00:00", "2026-03-13T00:00:00"),  # second Friday
        ("@hourly", "2026-03-01T10:59:59", "2026-03-01T11:00:00"),
        ("@daily", "2026-12-31T23:00:00", "2027-01-01T00:00:00"),
        ("@midnight", "2026-03-01T00:00:00", "2026-03-02T00:00:00"),
        ("@weekly", "2026-03-01T00:00:00", "2026-03-08T00:00:00"),  # Sundays
        ("@monthly", "2026-03-01T00:00:00", "2026-04-01T00:00:00"),
        ("@yearly", "2026-03-01T00:00:00", "2027-01-01T00:00:00"),
        ("@annually", "2026-03-01T00:00:00", "2027-01-01T00:00:00"),
        ("0 12 1 jan,jul *", "2026-02-01T00:00:00", "2026-07-01T12:00:00"),
        ("0 12 1 JAN,Jul *", "2026-02-01T00:00:00", "2026-07-01T12:00:00"),
        # @every counts from the anchor, here `after` itself.
        ("@every 30s", "2026-03-01T10:00:00", "2026-03-01T10:00:30"),
        ("@every 1m30s", "2026-03-01T10:00:00", "2026-03-01T10:01:30"),
    ],
)
def test_next_run(expr: str, after: str, expected: str) -> None:
    assert next_run(parse(expr), at(after), at(after)) == at(expected)


def test_macros_are_their_cron_expressions() -> None:
    assert parse("@hourly") == parse("0 * * * *") == Cron("0 0 * * * *")
    assert parse("@weekly") == parse("0 0 0 * * 0")


def test_naive_and_other_zones_are_handled_as_instants() -> None:
    plus2 = datetime(2026, 3, 1, 12, 2, tzinfo=UTC).astimezone(timezone(timedelta(hours=2)))
    every5 = parse("*/5 * * * *")
    assert next_run(every5, plus2, plus2) == at("2026-03-01T12:05:00")
    naive = datetime(2026, 3, 1, 12, 2)
    assert next_run(every5, naive, naive) == at("2026-03-01T12:05:00")
    assert next_run(parse("@every 1m"), naive, plus2) == at("2026-03-01T12:03:00")


def test_a_run_between_two_seconds_is_strictly_after() -> None:
    after = at("2026-03-01T10:00:00") + timedelta(microseconds=500_000)
    assert next_run(parse("* * * * * *"), after, after) == at("2026-03-01T10:00:01")


def test_due_run_is_the_latest_run_since_the_last_one() -> None:
    every5 = parse("*/5 * * * *")
    last = at("2026-03-01T10:00:00")
    assert due_run(every5, last, None, at("2026-03-01T10:04:59")) is None
    assert due_run(every5, last, None, at("2026-03-01T10:17:00")) == at("2026-03-01T10:15:00")
    # A run at `now` itself is due, with or without a fraction of a second.
    assert due_run(every5, last, None, at("2026-03-01T10:15:00")) == at("2026-03-01T10:15:00")
    now = at("2026-03-01T10:15:00") + timedelta(microseconds=1)
    assert due_run(every5, last, None, now) == at("2026-03-01T10:15:00")
    # ... but not once it has run.
    assert due_run(every5, last, at("2026-03-01T10:15:00"), now) is None


def test_due_run_after_a_long_outage_is_the_newest_one() -> None:
    last = at("2026-03-01T10:00:00")
    every_second = parse("* * * * * *")
    assert due_run(every_second, last, None, at("2026-06-01T00:00:00")) == at("2026-06-01T00:00:00")
    yearly = parse("@yearly")
    assert due_run(yearly, at("2020-06-01T00:00:00"), None, at("2026-03-01T00:00:00")) == at(
        "2026-01-01T00:00:00"
    )


@pytest.mark.parametrize(
    ("expr", "message"),
    [
        ("* * * *", "needs 5 or 6 fields, a macro such as @hourly, or @every <duration>"),
        ("* * * * * * *", "needs 5 or 6 fields"),
        ("@fortnightly", "needs 5 or 6 fields"),
        ("61 * * * *", "minute: '61' is outside 0-59"),
        ("0,15,61 * * * *", "minute: '61' is outside 0-59"),  # the part at fault, in a list
        ("* 24 * * *", "hour: '24' is outside 0-23"),
        ("60 * * * * *", "second: '60' is outside 0-59"),
        ("* * 0 * *", "day-of-month: '0' is outside 1-31"),
        ("* * * 13 *", "month: '13' is outside 1-12"),
        ("* * * * 8", "day-of-week: '8' is outside 0-7"),
        (
            "* * * * funday",
            "day-of-week: cannot parse 'funday': it takes 0-7 (0 and 7 are Sunday), sun-sat, "
            "5L (last Friday), 5#2, lists (1,5), ranges in order (1-5) and steps (*/5, 1-30/5)",
        ),
        ("5-1 * * * *", "minute: cannot parse '5-1'"),
        ("*/0 * * * *", "minute: cannot parse '*/0'"),
        ("* * * foo *", "month: cannot parse 'foo': it takes 1-12, jan-dec, lists"),
        ("0 0 30 2 *", "never fires: no month in '2' has the day '30'"),
        ("0 0 31 4,6,9,11 *", "never fires"),
        ("@every 0s", "@every needs a positive duration"),
        ("@every 500ms", "@every needs at least 1s between runs"),
        ("@every 8761h", "@every allows at most 8760h"),
        ("@every soon", "invalid duration 'soon'"),
    ],
)
def test_bad_expressions_name_the_part_at_fault(expr: str, message: str) -> None:
    with pytest.raises(CronError) as e:
        parse(expr)
    assert str(e.value).startswith(message)


def test_a_day_no_month_has_fires_when_the_weekday_may_match() -> None:
    # Both day fields restricted: the 30th OR a Monday, and February has Mondays.
    after = at("2026-03-01T00:00:00")
    assert next_run(parse("0 0 30 2 mon"), after, after) == at("2027-02-01T00:00:00")
