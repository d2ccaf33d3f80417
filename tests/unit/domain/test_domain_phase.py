"""The chaos phase machine, derived from per-target records."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from backend.domain.phase import (
    Observation,
    TransitionError,
    add_event,
    check_transition,
    counts,
    derive,
    elapsed,
    next_phase,
)
from backend.spec.status import MAX_RECORD_EVENTS, Record, RecordEvent

T0 = datetime(2026, 3, 1, tzinfo=UTC)


def rec(phase: str) -> Record:
    return Record(id=f"ns/{phase}", phase=phase)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("records", "paused", "expired", "error", "expected"),
    [
        ([], False, False, "", "Pending"),
        ([rec("NotInjected")], False, False, "", "Pending"),
        ([rec("Injected"), rec("NotInjected")], False, False, "", "Running"),
        ([rec("Injected")], False, False, "", "Running"),
        ([rec("Injected"), rec("Failed")], False, False, "", "Failed"),
        ([], False, False, "target: nothing matched", "Failed"),
        ([rec("Injected")], True, False, "", "Running"),  # pause asked, faults not off yet
        ([rec("Recovered")], True, False, "", "Paused"),
        ([rec("Injected")], False, True, "", "Running"),  # expired, recovery in progress
        ([rec("Recovered"), rec("NotInjected")], False, True, "", "Finished"),
        ([rec("Failed")], False, True, "", "Failed"),  # a recovery that failed stays visible
    ],
)
def test_derive(
    records: list[Record], paused: bool, expired: bool, error: str, expected: str
) -> None:
    assert derive(Observation(records, paused, expired, error)) == expected


def test_finished_is_terminal() -> None:
    assert next_phase("Finished", Observation([rec("Injected")])) == "Finished"
    with pytest.raises(TransitionError, match="Finished to Running"):
        check_transition("Finished", "Running")
    check_transition("Failed", "Running")
    assert next_phase("Pending", Observation([rec("Injected")])) == "Running"


def test_events_update_counts_and_stay_bounded() -> None:
    r = Record(id="shop/web-1")
    for i in range(MAX_RECORD_EVENTS + 5):
        kind = "Applied" if i % 2 == 0 else "Recovered"
        r = add_event(r, RecordEvent(time=T0 + timedelta(seconds=i), type=kind))
    assert len(r.events) == MAX_RECORD_EVENTS
    assert r.events[-1].time == T0 + timedelta(seconds=MAX_RECORD_EVENTS + 4)
    assert (r.injectedCount, r.recoveredCount, r.phase) == (8, 7, "Injected")
    r = add_event(r, RecordEvent(time=T0, type="Failed", message="nft: table busy"))
    assert (r.phase, r.lastError) == ("Failed", "nft: table busy")
    assert counts([r, rec("Injected"), rec("Recovered")]) == (3, 1)


def test_elapsed() -> None:
    assert not elapsed(None, 30, T0)
    assert not elapsed(T0, None, T0 + timedelta(days=1))
    assert not elapsed(T0, 30, T0 + timedelta(seconds=29))
    assert elapsed(T0, 30, T0 + timedelta(seconds=30))
