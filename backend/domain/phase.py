"""The phase machine of a chaos object, derived from what was observed on its targets.

The phase is computed from the per-target records, the pause annotation and the clock, never
accumulated from events, so a controller that restarts (or misses an update) computes the same
phase again. `check_transition` guards the few moves that must never happen (leaving Finished).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from backend.spec.status import MAX_RECORD_EVENTS, ChaosPhase, Record, RecordEvent

_LIVE = {"Pending", "Running", "Paused", "Failed", "Finished"}
ALLOWED: dict[str, set[str]] = {p: _LIVE - {p} for p in _LIVE - {"Finished"}} | {"Finished": set()}
"""Only Finished is terminal. Failed is not: the controller keeps retrying, and targets that
vanish (pods deleted) send a Running object back to Pending until new ones match."""


class TransitionError(ValueError):
    """A phase change the machine forbids."""


@dataclass(frozen=True)
class Observation:
    records: Sequence[Record]
    paused: bool = False
    expired: bool = False
    """The duration has elapsed (or a one-shot action such as pod-kill has been done)."""
    selection_error: str = ""
    """Non-empty when the selector could not be evaluated or matched nothing."""


def counts(records: Sequence[Record]) -> tuple[int, int]:
    """(desiredTargets, injectedTargets) for the status."""
    return len(records), sum(r.phase == "Injected" for r in records)


def derive(obs: Observation) -> ChaosPhase:
    """What phase the object is in, given the observed state of its targets."""
    phases = {r.phase for r in obs.records}
    if obs.expired or obs.paused:
        # Faults must be off: any target not yet recovered keeps the object from settling.
        if phases & {"Injected", "Failed"}:
            return "Failed" if "Failed" in phases else "Running"
        return "Finished" if obs.expired else "Paused"
    if obs.selection_error:
        return "Failed"
    if "Failed" in phases:
        return "Failed"
    if "Injected" in phases:
        return "Running"  # injectedTargets tells how many of desiredTargets are done
    return "Pending"


def check_transition(old: str, new: str) -> None:
    if old != new and new not in ALLOWED.get(old, set()):
        raise TransitionError(f"phase: cannot go from {old} to {new}")


def next_phase(old: ChaosPhase, obs: Observation) -> ChaosPhase:
    """The phase to write: derived from `obs`, but a Finished object stays Finished."""
    new = derive(obs)
    if old == "Finished":
        return old
    check_transition(old, new)
    return new


def add_event(record: Record, event: RecordEvent) -> Record:
    """A copy of `record` with `event` appended, keeping only the newest events."""
    events = [*record.events, event][-MAX_RECORD_EVENTS:]
    bumps = {"Applied": ("injectedCount", "Injected"), "Recovered": ("recoveredCount", "Recovered")}
    update: dict[str, object] = {"events": events}
    if event.type in bumps:
        counter, phase = bumps[event.type]
        update[counter] = getattr(record, counter) + 1
        update["phase"] = phase
        update["lastError"] = ""
    elif event.type == "Failed":
        update["phase"] = "Failed"
        update["lastError"] = event.message
    return record.model_copy(update=update)


def elapsed(start: datetime | None, duration_seconds: float | None, now: datetime) -> bool:
    """Has a run that started at `start` used up its duration? No duration: never."""
    if start is None or duration_seconds is None:
        return False
    return (now - start).total_seconds() >= duration_seconds
