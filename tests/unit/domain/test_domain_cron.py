"""Schedule cron maths: 5 and 6 fields, macros, @every, day-of-month OR day-of-week, deadlines."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from backend.domain.cron import CronError, last_missed, next_fire, should_start


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


@pytest.mark.parametrize(
    ("expr", "after", "expected"),
    [
        ("*/5 * * * *", "2026-03-01T10:02:30", "2026-03-01T10:05:00"),
        ("*/5 * * * *", "2026-03-01T10:05:00", "2026-03-01T10:10:00"),
        ("30 */10 * * * *", "2026-03-01T10:00:31", "2026-03-01T10:10:30"),  # seconds first
        ("0 9 * * mon-fri", "2026-03-06T09:00:00", "2026-03-09T09:00:00"),  # Fri -> Mon
        ("0 9 * * 1-5", "2026-03-06T09:00:00", "2026-03-09T09:00:00"),  # 0=Sunday numbering
        ("0 0 * * 0", "2026-03-02T00:00:00", "2026-03-08T00:00:00"),
        ("0 0 * * 7", "2026-03-02T00:00:00", "2026-03-08T00:00:00"),  # 7 is Sunday too
        ("0 0 13 * 5", "2026-03-01T00:00:00", "2026-03-06T00:00:00"),  # 13th OR Friday
        ("0 0 29 2 *", "2026-03-01T00:00:00", "2028-02-29T00:00:00"),
        ("@hourly", "2026-03-01T10:59:59", "2026-03-01T11:00:00"),
        ("@daily", "2026-12-31T23:00:00", "2027-01-01T00:00:00"),
        ("0 12 1 jan,jul *", "2026-02-01T00:00:00", "2026-07-01T12:00:00"),
        ("@every 30s", "2026-03-01T10:00:00", "2026-03-01T10:00:30"),
        ("@every 1m30s", "2026-03-01T10:00:00", "2026-03-01T10:01:30"),
    ],
)
def test_next_fire(expr: str, after: str, expected: str) -> None:
    assert next_fire(expr, at(after)) == at(expected)


def test_naive_and_other_zones_are_handled_as_instants() -> None:
    plus2 = datetime(2026, 3, 1, 12, 2, tzinfo=UTC).astimezone(
        __import__("datetime").timezone(timedelta(hours=2))
    )
    assert next_fire("*/5 * * * *", plus2) == at("2026-03-01T12:05:00")
    assert next_fire("*/5 * * * *", datetime(2026, 3, 1, 12, 2)) == at("2026-03-01T12:05:00")


@pytest.mark.parametrize(
    ("expr", "phrase"),
    [
        ("* * * *", "5 or 6 fields"),
        ("61 * * * *", "minute"),
        ("* 24 * * *", "hour"),
        ("* * * 13 *", "month"),
        ("* * * * funday", "day-of-week"),
        ("0 0 30 2 *", "never fires"),
        ("@every 0s", "positive"),
        ("@every soon", "duration"),
        ("5-1 * * * *", "minute"),
    ],
)
def test_bad_expressions_name_the_field(expr: str, phrase: str) -> None:
    with pytest.raises(CronError, match=phrase):
        next_fire(expr, at("2026-03-01T00:00:00"))


def test_last_missed_returns_latest_due_run() -> None:
    last = at("2026-03-01T10:00:00")
    assert last_missed("*/5 * * * *", last, at("2026-03-01T10:04:59")) is None
    assert last_missed("*/5 * * * *", last, at("2026-03-01T10:17:00")) == at("2026-03-01T10:15:00")
    # a long outage with a per-second schedule still answers with the newest run
    assert last_missed("* * * * * *", last, at("2026-06-01T00:00:00")) == at("2026-06-01T00:00:00")
    assert last_missed("@yearly", at("2020-06-01T00:00:00"), at("2026-03-01T00:00:00")) == at(
        "2026-01-01T00:00:00"
    )


def test_should_start_honours_deadline_and_concurrency() -> None:
    due, now = at("2026-03-01T10:00:00"), at("2026-03-01T10:00:40")
    assert should_start(due, now, None, 0, "Forbid")
    assert not should_start(due, now, 30, 0, "Forbid")
    assert should_start(due, now, 60, 0, "Forbid")
    assert not should_start(due, now, None, 1, "Forbid")
    assert should_start(due, now, None, 1, "Allow")
