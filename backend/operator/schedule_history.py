"""A Schedule's `status.history`: its recent runs, started or skipped, newest first.

`historyLimit` prunes the runs' chaos objects, and a skipped run never had one, so listing the
children cannot answer "what did this Schedule do lately". Each wake-up merges what it sees
(the children that still exist, with their current phase, and the run it just skipped) into the
history it wrote last time; a pruned run keeps the last phase seen for it.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from backend.spec import GROUP
from backend.spec.schedule import HISTORY_MAX, ScheduleRun

SCHEDULED_AT_ANNOTATION = f"{GROUP}/scheduled-at"
MIN_HISTORY = 10
"""Runs kept even with a small historyLimit: skipped runs and pruned ones are worth seeing."""


def history_length(history_limit: int) -> int:
    return min(HISTORY_MAX, max(history_limit, MIN_HISTORY))


def run_of(child: dict[str, Any]) -> dict[str, Any]:
    """The history entry of an existing run's chaos object (or of the manifest just created)."""
    meta, status = child["metadata"], child.get("status") or {}
    entry = {
        "name": meta["name"],
        "kind": child["kind"],
        "scheduledTime": (meta.get("annotations") or {}).get(SCHEDULED_AT_ANNOTATION)
        or meta.get("creationTimestamp"),
        "outcome": "Started",
        "startTime": status.get("startTime"),
        "endTime": status.get("endTime"),
        "phase": status.get("phase") or "Pending",
    }
    return _clean(entry)


def skipped_run(name: str, kind: str, due: datetime, reason: str) -> dict[str, Any]:
    return _clean(
        {"name": name, "kind": kind, "scheduledTime": due, "outcome": "Skipped", "reason": reason}
    )


def _clean(entry: dict[str, Any]) -> dict[str, Any]:
    """Validated and in the stored form, so unchanged runs compare equal across wake-ups."""
    run = ScheduleRun.model_validate({k: v for k, v in entry.items() if v is not None})
    return run.model_dump(mode="json", exclude_none=True, exclude_defaults=True)


def merge_history(
    previous: list[dict[str, Any]],
    children: list[dict[str, Any]],
    skipped: dict[str, Any] | None,
    length: int,
) -> list[dict[str, Any]]:
    """Previous entries, updated by the children seen now, plus a new skip; newest first."""
    by_name: dict[str, dict[str, Any]] = {}
    for entry in previous:
        try:
            by_name[entry["name"]] = _clean(entry)
        except (KeyError, ValueError):
            continue  # an entry this version cannot read is dropped, not fatal
    if skipped is not None and skipped["name"] not in by_name:
        by_name[skipped["name"]] = skipped
    for child in children:  # a run that exists wins over a skip recorded under its name
        entry = run_of(child)
        by_name[entry["name"]] = entry
    ordered = sorted(
        by_name.values(),
        key=lambda e: (ScheduleRun.model_validate(e).scheduledTime, e["name"]),
        reverse=True,
    )
    return ordered[:length]
