"""One wake-up of one Schedule: read it and its children from the API, prune the history,
start the due run if allowed, and write the status.

Each wake-up decides from what it reads alone, so a restarted operator carries on from the
status: the due run is recomputed from `status.lastScheduleTime`, and runs missed by more than
`startingDeadlineSeconds` are skipped and reported.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from backend.clients import kube
from backend.clients.kube.client import shared
from backend.clients.kube.objects import CustomObjects
from backend.domain import cron
from backend.operator.schedule_children import (
    child_manifest,
    child_name,
    create_child,
    delete_child,
    is_finished,
    list_children,
    to_prune,
)
from backend.operator.schedule_firing import decide, iso, parse_time, skip_message
from backend.operator.schedule_history import history_length, merge_history, skipped_run
from backend.operator.schedule_jobs import forget
from backend.spec import GROUP, KINDS, VERSION
from backend.spec.emergency import EmergencyStop
from backend.spec.kinds import PAUSE_ANNOTATION
from backend.spec.schedule import ScheduleSpec
from backend.spec.status import Condition

log = logging.getLogger("faultline.operator.schedules")
SCHEDULE = KINDS["Schedule"]


def _objects() -> CustomObjects:
    return shared().objects


def _post_event(schedule: dict[str, Any], kind: str, reason: str, message: str) -> None:
    meta = schedule["metadata"]
    involved = {"apiVersion": f"{GROUP}/{VERSION}", "kind": "Schedule", "name": meta["name"],
                "namespace": meta["namespace"], "uid": meta["uid"]}  # fmt: skip
    try:
        shared().core.post_event(involved, kind, reason, message)
    except kube.KubeError as e:  # an event is a courtesy; the status carries the same message
        log.warning("could not post event for %s/%s: %s", meta["namespace"], meta["name"], e)


def _ref(child: dict[str, Any]) -> dict[str, Any]:
    meta = child["metadata"]
    return {
        "kind": child["kind"],
        "name": meta["name"],
        "namespace": meta["namespace"],
        "uid": meta.get("uid"),
    }


def _condition(ctype: str, ok: bool, reason: str, message: str, now: datetime) -> dict[str, Any]:
    cond = Condition(
        type=ctype,
        status="True" if ok else "False",
        reason=reason,
        message=message,
        lastTransitionTime=now,
    )
    return cond.model_dump(mode="json", exclude_none=True)


def _set(
    conditions: dict[str, dict[str, Any]],
    ctype: str,
    ok: bool,
    reason: str,
    message: str,
    now: datetime,
) -> None:
    """Set a condition, keeping its lastTransitionTime while its status does not change."""
    new = _condition(ctype, ok, reason, message, now)
    old = conditions.get(ctype)
    if old and old.get("status") == new["status"] and old.get("lastTransitionTime"):
        new["lastTransitionTime"] = old["lastTransitionTime"]
    conditions[ctype] = new


def report_invalid(namespace: str, name: str, text: str) -> None:
    """Write an unusable spec's error to the status (Valid=False), where `kubectl` shows it."""
    now = datetime.now(UTC)
    status = {
        "message": text[:32768],
        "conditions": [_condition("Valid", False, "InvalidSpec", text[:32768], now)],
    }
    _objects().patch_status(SCHEDULE, namespace, name, status)


_locks: dict[str, threading.Lock] = {}
_locks_guard = threading.Lock()


def _lock_for(uid: str) -> threading.Lock:
    with _locks_guard:
        return _locks.setdefault(uid, threading.Lock())


def sync(
    namespace: str,
    name: str,
    uid: str,
    *,
    fire: bool,
    now: datetime | None = None,
    stop: Callable[[], EmergencyStop] = EmergencyStop,
) -> None:
    """One wake-up: prune history, start the due run if allowed (`fire`), write the status.
    `stop` reads the emergency stop: while it is engaged, due runs are skipped and reported."""
    with _lock_for(uid):
        _sync(namespace, name, uid, fire, now or datetime.now(UTC), stop())


def _sync(
    namespace: str, name: str, uid: str, fire: bool, now: datetime, stop: EmergencyStop
) -> None:
    body = _objects().find(SCHEDULE, namespace, name)
    if body is None or body["metadata"]["uid"] != uid:
        forget(uid)  # deleted (or replaced by a new object of the same name)
        return
    meta, status = body["metadata"], dict(body.get("status") or {})
    spec = ScheduleSpec.model_validate(body["spec"])
    sched = cron.parse(spec.schedule)
    anchor = parse_time(meta["creationTimestamp"]) or now
    last = parse_time(status.get("lastScheduleTime"))
    children = list_children(namespace, name, uid, api=_objects())
    for old in to_prune(children, spec.historyLimit):
        delete_child(old, api=_objects())
    active = [c for c in children if not is_finished(c)]
    paused = (meta.get("annotations") or {}).get(PAUSE_ANNOTATION) == "true"
    conditions = {c["type"]: c for c in status.get("conditions") or []}
    # A message about an invalid spec no longer holds once the spec parses.
    valid = conditions.get("Valid", {}).get("status") != "False"
    message = status.get("message", "") if valid else ""

    due = cron.due_run(sched, anchor, last, now)
    decision = decide(
        due if fire else None,
        now,
        starting_deadline_seconds=spec.startingDeadlineSeconds,
        active=len(active),
        policy=spec.concurrencyPolicy,
        paused=paused,
        halted=stop.engaged,
    )
    skipped: dict[str, Any] | None = None
    created: list[dict[str, Any]] = []
    if decision.action == "start" and due is not None:
        child = child_manifest(body, due)
        create_child(child, api=_objects())
        active.append(child)
        created.append(child)
        last = due
        message = f"started {child['metadata']['name']}"
        _set(conditions, "LastRun", True, "Started", message, now)
    elif decision.action == "skip" and due is not None:
        message = skip_message(decision.reason, due, stop)
        skipped = skipped_run(child_name(name, due), spec.type, due, decision.reason)
        if conditions.get("LastRun", {}).get("message") != message:  # report each skip once
            kind = "Warning" if decision.reason in ("MissedDeadline", "EmergencyStop") else "Normal"
            _post_event(body, kind, decision.reason, message)
            log.info("%s/%s: %s", namespace, name, message)
        _set(conditions, "LastRun", False, decision.reason, message, now)
    pause_reason = "PauseAnnotation" if paused else "NotPaused"
    _set(conditions, "Paused", paused, pause_reason, "", now)
    _set(conditions, "Valid", True, "ValidSpec", "", now)

    new_status: dict[str, Any] = {
        "active": [_ref(c) for c in active],
        "nextScheduleTime": iso(cron.next_run(sched, anchor, now)),
        "history": merge_history(
            status.get("history") or [],
            [*children, *created],
            skipped,
            history_length(spec.historyLimit),
        ),
        "conditions": list(conditions.values()),
        "message": message,
    }
    if last is not None:
        new_status["lastScheduleTime"] = iso(last)
    _objects().patch_status(SCHEDULE, namespace, name, new_status)
