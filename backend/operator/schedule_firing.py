"""Whether a Schedule's due run starts: pure decisions, no I/O. Which run is due is
backend.domain.cron's.

Kept apart from the wake-up so the decisions (deadlines, Forbid, pause, the emergency stop) can
be unit-tested without an API server (tests/unit/schedule).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Literal

from backend.spec.emergency import EmergencyStop


def parse_time(text: str | None) -> datetime | None:
    return datetime.fromisoformat(text).astimezone(UTC) if text else None


def iso(t: datetime) -> str:
    return t.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


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
