"""The Schedule controller's pure decisions: when a run is due, whether it starts, what is pruned,
and what the child chaos object looks like."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from backend.domain import cron
from backend.domain.cron import due_run, next_run
from backend.operator.schedule_children import (
    SCHEDULE_LABEL,
    child_manifest,
    child_name,
    label_value,
    to_prune,
)
from backend.operator.schedule_firing import decide
from backend.operator.schedule_jobs import ScheduleTrigger

T0 = datetime(2026, 3, 1, 12, 0, 0, tzinfo=UTC)
EVERY_20 = cron.parse("@every 20s")


def s(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


def test_every_runs_are_aligned_on_the_creation_time() -> None:
    assert next_run(EVERY_20, T0, T0) == s(20)
    assert next_run(EVERY_20, T0, s(19.9)) == s(20)
    assert next_run(EVERY_20, T0, s(20)) == s(40)
    assert next_run(EVERY_20, T0, s(3605)) == s(3620)
    assert next_run(EVERY_20, T0, s(-100)) == s(20)


def test_every_due_run_is_the_latest_tick_after_the_last_run() -> None:
    assert due_run(EVERY_20, T0, None, s(19)) is None
    assert due_run(EVERY_20, T0, None, s(20.2)) == s(20)
    assert due_run(EVERY_20, T0, s(20), s(39)) is None
    assert due_run(EVERY_20, T0, s(20), s(40)) == s(40)
    # A long outage: the missed runs collapse into the most recent one.
    assert due_run(EVERY_20, T0, s(20), s(1000)) == s(1000)
    assert due_run(EVERY_20, T0, s(20), s(1019)) == s(1000)


def test_cron_due_run_after_an_outage_is_the_latest_missed_one() -> None:
    hourly = cron.parse("0 * * * *")
    created = datetime(2026, 3, 1, 9, 30, tzinfo=UTC)
    last = datetime(2026, 3, 1, 10, 0, tzinfo=UTC)
    assert due_run(hourly, created, last, datetime(2026, 3, 1, 10, 59, tzinfo=UTC)) is None
    now = datetime(2026, 3, 3, 7, 15, tzinfo=UTC)
    assert due_run(hourly, created, last, now) == datetime(2026, 3, 3, 7, 0, tzinfo=UTC)
    every_10s = cron.parse("*/10 * * * * *")
    assert due_run(every_10s, created, None, created + timedelta(seconds=25)) == created + (
        timedelta(seconds=20)
    )


def test_cron_due_run_never_precedes_the_creation() -> None:
    hourly = cron.parse("0 * * * *")
    created = datetime(2026, 3, 1, 9, 30, tzinfo=UTC)
    assert due_run(hourly, created, None, datetime(2026, 3, 1, 9, 59, tzinfo=UTC)) is None


@pytest.mark.parametrize(
    ("due", "now", "deadline", "active", "policy", "paused", "expected"),
    [
        (None, s(5), None, 0, "Forbid", False, ("wait", "")),
        (s(0), s(0.5), None, 0, "Forbid", False, ("start", "")),
        (s(0), s(0.5), None, 1, "Forbid", False, ("skip", "Forbidden")),
        (s(0), s(0.5), None, 3, "Allow", False, ("start", "")),
        (s(0), s(0.5), None, 0, "Allow", True, ("skip", "Paused")),
        (s(0), s(61), 60, 0, "Allow", False, ("skip", "MissedDeadline")),
        (s(0), s(60), 60, 0, "Allow", False, ("start", "")),
        (s(0), s(3600), None, 0, "Forbid", False, ("start", "")),
    ],
)
def test_decide(
    due: datetime | None,
    now: datetime,
    deadline: int | None,
    active: int,
    policy: str,
    paused: bool,
    expected: tuple[str, str],
) -> None:
    d = decide(
        due,
        now,
        starting_deadline_seconds=deadline,
        active=active,
        policy=policy,
        paused=paused,
    )
    assert (d.action, d.reason) == expected


def _child(name: str, created: str, phase: str | None) -> dict[str, Any]:
    return {
        "kind": "NetworkChaos",
        "metadata": {"name": name, "creationTimestamp": created},
        "status": {"phase": phase} if phase else {},
    }


def test_prune_deletes_the_oldest_finished_children_only() -> None:
    children = [
        _child("s-3", "2026-03-01T12:01:00Z", "Finished"),
        _child("s-1", "2026-03-01T12:00:00Z", "Finished"),
        _child("s-4", "2026-03-01T12:01:30Z", "Running"),
        _child("s-2", "2026-03-01T12:00:30Z", "Finished"),
        _child("s-0", "2026-03-01T11:59:30Z", None),  # never reconciled: not finished
    ]
    assert [c["metadata"]["name"] for c in to_prune(children, 1)] == ["s-1", "s-2"]
    assert [c["metadata"]["name"] for c in to_prune(children, 2)] == ["s-1"]
    assert to_prune(children, 3) == []


def test_child_is_owned_labelled_and_named_after_its_scheduled_time() -> None:
    chaos = {"action": "partition", "mode": "all", "selector": {"namespaces": ["x"]}}
    schedule = {
        "metadata": {"name": "nightly", "namespace": "shop", "uid": "u-1"},
        "spec": {"schedule": "@every 20s", "type": "NetworkChaos", "networkChaos": chaos},
    }
    child = child_manifest(schedule, s(20))
    meta = child["metadata"]
    assert child["kind"] == "NetworkChaos"
    assert child["spec"] == chaos and child["spec"] is not chaos
    assert meta["name"] == f"nightly-{int(s(20).timestamp())}"
    assert meta["namespace"] == "shop"
    assert meta["labels"] == {SCHEDULE_LABEL: "nightly"}
    assert meta["annotations"]["chaos.faultline.dev/scheduled-at"] == "2026-03-01T12:00:20Z"
    (owner,) = meta["ownerReferences"]
    assert (owner["kind"], owner["name"], owner["uid"], owner["controller"]) == (
        "Schedule",
        "nightly",
        "u-1",
        True,
    )


def test_long_names_stay_valid() -> None:
    name = "a" * 250
    assert len(child_name(name, s(0))) <= 253
    value = label_value(name)
    assert len(value) <= 63 and value != label_value("a" * 249)
    assert label_value("short") == "short"


def test_trigger_wakes_at_the_next_run_after_now() -> None:
    trigger = ScheduleTrigger("@every 20s", T0)
    assert trigger.get_next_fire_time(None, s(5)) == s(20)
    assert trigger.get_next_fire_time(s(20), s(20.01)) == s(40)
    # After a stall the trigger does not replay every missed tick.
    assert trigger.get_next_fire_time(s(20), s(95)) == s(100)
    cron_trigger = ScheduleTrigger("30 * * * * *", T0)
    assert cron_trigger.get_next_fire_time(None, s(31)) == s(90)


def test_a_bad_cron_field_is_named() -> None:
    with pytest.raises(cron.CronError, match="minute"):
        ScheduleTrigger("61 * * * *", T0)
