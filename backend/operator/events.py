"""Kubernetes Events and metrics for what a reconcile did to each target.

The status records already hold the per-target history; this module finds the entries a
reconcile added (by comparing the old and new records) so each one is told exactly once: as an
Event on the chaos object (`kubectl describe` shows Injected/Recovered/Failed per target) and as
a metric.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

REASONS = {"Applied": "Injected", "Recovered": "Recovered", "Failed": "Failed"}


@dataclass(frozen=True)
class TargetEvent:
    target: str
    type: str
    """The record event type: Applied, Recovered or Failed."""
    message: str

    @property
    def reason(self) -> str:
        return REASONS[self.type]

    @property
    def severity(self) -> str:
        return "Warning" if self.type == "Failed" else "Normal"


def _when(value: Any) -> str:
    # Old times come back from the API as written; parse so formatting never makes a duplicate.
    try:
        return datetime.fromisoformat(str(value)).isoformat()
    except ValueError:
        return str(value)


def _seen(status: dict[str, Any]) -> set[tuple[str, str, str, str]]:
    return {
        (rec["id"], _when(ev.get("time")), ev.get("type", ""), ev.get("message", ""))
        for rec in status.get("records") or []
        for ev in rec.get("events") or []
    }


def new_events(old: dict[str, Any], new: dict[str, Any]) -> list[TargetEvent]:
    """Record events present in `new` but not in `old`, in record order."""
    before = _seen(old or {})
    out = []
    for rec in new.get("records") or []:
        for ev in rec.get("events") or []:
            key = (rec["id"], _when(ev.get("time")), ev.get("type", ""), ev.get("message", ""))
            if key not in before and ev.get("type") in REASONS:
                out.append(TargetEvent(rec["id"], ev["type"], ev.get("message", "")))
    return out


def newly_refused(old: dict[str, Any], new: dict[str, Any]) -> str:
    """The refusal message when this reconcile put the object outside the target limits (its
    WithinLimits condition turned False), so the Event is told once, not on every tick."""

    def outside(status: dict[str, Any]) -> bool:
        return any(
            c.get("type") == "WithinLimits" and c.get("status") == "False"
            for c in (status or {}).get("conditions") or []
        )

    return str(new.get("message") or "") if outside(new) and not outside(old) else ""
