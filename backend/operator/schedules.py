"""The Schedule controller: APScheduler wakes each Schedule at its cron times, and every wake-up
creates a child chaos object (PodChaos / NetworkChaos / IOChaos) from the embedded spec.

kopf only tracks the Schedule's lifecycle (create / resume / update / delete) and keeps one
APScheduler job per Schedule. Each wake-up reads the Schedule and its children from the API and
decides from that alone, so a restarted operator carries on from the status: the due run is
recomputed from `status.lastScheduleTime`, runs missed by more than `startingDeadlineSeconds` are
skipped and reported, and a child's name is derived from its scheduled time
(`<schedule>-<unix time>`), so a run that was already created is never created twice.
Children carry an ownerReference to the Schedule: deleting it lets the garbage collector delete
them, and their own delete handlers recover the faults.
"""

from __future__ import annotations

import hashlib
import logging
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Literal

import kopf
from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.triggers.base import BaseTrigger
from kubernetes import client
from kubernetes.client.exceptions import ApiException
from pydantic import ValidationError

from backend.clients import kube
from backend.domain import cron
from backend.operator.schedule_history import (
    SCHEDULED_AT_ANNOTATION,
    history_length,
    merge_history,
    skipped_run,
)
from backend.spec import GROUP, KINDS, VERSION
from backend.spec.kinds import PAUSE_ANNOTATION
from backend.spec.schedule import EMBEDDED, ScheduleSpec
from backend.spec.status import Condition

log = logging.getLogger("faultline.operator.schedules")
SCHEDULE_LABEL = f"{GROUP}/schedule"
PLURAL = "schedules"
COMPONENT = "faultline-operator"


# --- pure decisions (unit-tested in tests/unit/schedule) -------------------------------------


def parse_time(text: str | None) -> datetime | None:
    return datetime.fromisoformat(text).astimezone(UTC) if text else None


def next_run(sched: cron.Cron | cron.Every, anchor: datetime, after: datetime) -> datetime:
    """The first run strictly after `after`. `@every` runs are aligned on `anchor` (the
    Schedule's creation), so the operator computes the same times before and after a restart."""
    if isinstance(sched, cron.Every):
        if after < anchor:
            return anchor + sched.interval
        done = (after - anchor) // sched.interval
        return anchor + sched.interval * (done + 1)
    return cron.next_fire(sched, after)


def due_run(
    sched: cron.Cron | cron.Every, anchor: datetime, last: datetime | None, now: datetime
) -> datetime | None:
    """The latest run time in (last run, now]: the run to start now, if any. Older missed runs
    are superseded by it, as with a CronJob."""
    after = max(last, anchor) if last else anchor
    if isinstance(sched, cron.Every):
        latest = next_run(sched, anchor, now) - sched.interval
        return latest if latest > after else None
    due, t = None, cron.next_fire(sched, after)
    if t > now:
        return None
    # Skip ahead in big steps after a long outage instead of walking every missed run.
    for back in (timedelta(minutes=1), timedelta(hours=1), timedelta(days=1)):
        if now - back > t:
            probe = cron.next_fire(sched, now - back)
            if probe <= now:
                t = probe
                break
    while t <= now:
        due, t = t, cron.next_fire(sched, t)
    return due


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
) -> Decision:
    """Start the due run, or say why not."""
    if due is None:
        return Decision("wait")
    if paused:
        return Decision("skip", "Paused")
    late = (now - due).total_seconds()
    if starting_deadline_seconds is not None and late > starting_deadline_seconds:
        return Decision("skip", "MissedDeadline")
    if policy == "Forbid" and active > 0:
        return Decision("skip", "Forbidden")
    return Decision("start")


def is_finished(child: dict[str, Any]) -> bool:
    return (child.get("status") or {}).get("phase") == "Finished"


def _created(child: dict[str, Any]) -> tuple[str, str]:
    meta = child["metadata"]
    annotations = meta.get("annotations") or {}
    return (
        annotations.get(SCHEDULED_AT_ANNOTATION) or meta.get("creationTimestamp", ""),
        meta["name"],
    )


def to_prune(children: Sequence[dict[str, Any]], history_limit: int) -> list[dict[str, Any]]:
    """Finished children beyond `history_limit`, oldest first; active ones are never pruned."""
    finished = sorted((c for c in children if is_finished(c)), key=_created)
    return finished[: max(0, len(finished) - history_limit)]


def label_value(name: str) -> str:
    """Label values stop at 63 characters; longer Schedule names keep a hash to stay unique."""
    if len(name) <= 63:
        return name
    return f"{name[:50].rstrip('-.')}-{hashlib.sha256(name.encode()).hexdigest()[:12]}"


def child_name(schedule: str, due: datetime) -> str:
    return f"{schedule[:242].rstrip('-.')}-{int(due.timestamp())}"


def child_manifest(schedule: dict[str, Any], due: datetime) -> dict[str, Any]:
    """The chaos object a run creates: the embedded spec, owned by and labelled with the
    Schedule, so `kubectl get <kind> -l chaos.faultline.dev/schedule=<name>` lists the history."""
    meta, spec = schedule["metadata"], schedule["spec"]
    kind = spec["type"]
    return {
        "apiVersion": f"{GROUP}/{VERSION}",
        "kind": kind,
        "metadata": {
            "name": child_name(meta["name"], due),
            "namespace": meta["namespace"],
            "labels": {SCHEDULE_LABEL: label_value(meta["name"])},
            "annotations": {SCHEDULED_AT_ANNOTATION: _iso(due)},
            "ownerReferences": [
                {
                    "apiVersion": f"{GROUP}/{VERSION}",
                    "kind": "Schedule",
                    "name": meta["name"],
                    "uid": meta["uid"],
                    "controller": True,
                }
            ],
        },
        "spec": dict(spec[EMBEDDED[kind]]),
    }


def _iso(t: datetime) -> str:
    return t.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def skip_message(reason: str, due: datetime) -> str:
    text = {
        "Paused": "the Schedule is paused",
        "Forbidden": "the previous run is still active (concurrencyPolicy Forbid)",
        "MissedDeadline": "it was missed by more than startingDeadlineSeconds",
    }[reason]
    return f"skipped the run due at {_iso(due)}: {text}"


class ScheduleTrigger(BaseTrigger):  # type: ignore[misc]
    """An APScheduler trigger over backend.domain.cron, so the wake-ups, the status'
    nextScheduleTime and the due-run maths all come from the same code."""

    __slots__ = ("anchor", "sched")

    def __init__(self, expr: str, anchor: datetime) -> None:
        self.sched = cron.parse(expr)
        self.anchor = anchor

    def get_next_fire_time(
        self, previous_fire_time: datetime | None, now: datetime
    ) -> datetime | None:
        after = max(previous_fire_time, now) if previous_fire_time else now
        return next_run(self.sched, self.anchor, after.astimezone(UTC))


# --- I/O: one wake-up of one Schedule ------------------------------------------------------


def _custom() -> client.CustomObjectsApi:
    return client.CustomObjectsApi(kube.api_client())


def _get_schedule(namespace: str, name: str) -> dict[str, Any] | None:
    try:
        found: Any = _custom().get_namespaced_custom_object(GROUP, VERSION, namespace, PLURAL, name)
        return dict(found)
    except ApiException as e:
        if e.status == 404:
            return None
        raise


def list_children(namespace: str, name: str, uid: str) -> list[dict[str, Any]]:
    """This Schedule's chaos objects, of every kind (the type may have been edited)."""
    out: list[dict[str, Any]] = []
    for kind in EMBEDDED:
        found: Any = _custom().list_namespaced_custom_object(
            GROUP,
            VERSION,
            namespace,
            KINDS[kind].plural,
            label_selector=f"{SCHEDULE_LABEL}={label_value(name)}",
        )
        for item in found.get("items", []):
            owners = item["metadata"].get("ownerReferences") or []
            if any(o.get("uid") == uid for o in owners):  # not a same-named predecessor's
                out.append(item)
    return out


def _delete_child(child: dict[str, Any]) -> None:
    meta = child["metadata"]
    try:
        _custom().delete_namespaced_custom_object(
            GROUP,
            VERSION,
            meta["namespace"],
            KINDS[child["kind"]].plural,
            meta["name"],
            propagation_policy="Background",
        )
    except ApiException as e:
        if e.status != 404:
            raise


def _create_child(body: dict[str, Any]) -> None:
    """Create a run's chaos object; an existing one (same scheduled time) is that run."""
    meta = body["metadata"]
    try:
        _custom().create_namespaced_custom_object(
            GROUP, VERSION, meta["namespace"], KINDS[body["kind"]].plural, body
        )
    except ApiException as e:
        if e.status != 409:
            raise


def _post_event(schedule: dict[str, Any], kind: str, reason: str, message: str) -> None:
    meta, now = schedule["metadata"], _iso(datetime.now(UTC))
    event: Any = {
        "metadata": {"generateName": f"{meta['name']}."},
        "involvedObject": {
            "apiVersion": f"{GROUP}/{VERSION}",
            "kind": "Schedule",
            "name": meta["name"],
            "namespace": meta["namespace"],
            "uid": meta["uid"],
        },
        "type": kind,
        "reason": reason,
        "message": message,
        "firstTimestamp": now,
        "lastTimestamp": now,
        "count": 1,
        "source": {"component": COMPONENT},
        "reportingComponent": COMPONENT,
    }
    try:
        client.CoreV1Api(kube.api_client()).create_namespaced_event(meta["namespace"], event)
    except ApiException as e:  # an event is a courtesy; the status carries the same message
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


_locks: dict[str, threading.Lock] = {}
_locks_guard = threading.Lock()


def _lock_for(uid: str) -> threading.Lock:
    with _locks_guard:
        return _locks.setdefault(uid, threading.Lock())


def sync(namespace: str, name: str, uid: str, *, fire: bool, now: datetime | None = None) -> None:
    """One wake-up: prune history, start the due run if allowed (`fire`), write the status."""
    with _lock_for(uid):
        _sync(namespace, name, uid, fire, now or datetime.now(UTC))


def _sync(namespace: str, name: str, uid: str, fire: bool, now: datetime) -> None:
    body = _get_schedule(namespace, name)
    if body is None or body["metadata"]["uid"] != uid:
        forget(uid)  # deleted (or replaced by a new object of the same name)
        return
    meta, status = body["metadata"], dict(body.get("status") or {})
    spec = ScheduleSpec.model_validate(body["spec"])
    sched = cron.parse(spec.schedule)
    anchor = parse_time(meta["creationTimestamp"]) or now
    last = parse_time(status.get("lastScheduleTime"))
    children = list_children(namespace, name, uid)
    for old in to_prune(children, spec.historyLimit):
        _delete_child(old)
    active = [c for c in children if not is_finished(c)]
    paused = (meta.get("annotations") or {}).get(PAUSE_ANNOTATION) == "true"
    conditions = {c["type"]: c for c in status.get("conditions") or []}
    # A message about an invalid spec no longer holds once the spec parses.
    valid = conditions.get("Valid", {}).get("status") != "False"
    message = status.get("message", "") if valid else ""

    due = due_run(sched, anchor, last, now)
    decision = decide(
        due if fire else None,
        now,
        starting_deadline_seconds=spec.startingDeadlineSeconds,
        active=len(active),
        policy=spec.concurrencyPolicy,
        paused=paused,
    )
    skipped: dict[str, Any] | None = None
    created: list[dict[str, Any]] = []
    if decision.action == "start" and due is not None:
        child = child_manifest(body, due)
        _create_child(child)
        active.append(child)
        created.append(child)
        last = due
        message = f"started {child['metadata']['name']}"
        _set(conditions, "LastRun", True, "Started", message, now)
    elif decision.action == "skip" and due is not None:
        message = skip_message(decision.reason, due)
        skipped = skipped_run(child_name(name, due), spec.type, due, decision.reason)
        if conditions.get("LastRun", {}).get("message") != message:  # report each skip once
            kind = "Warning" if decision.reason == "MissedDeadline" else "Normal"
            _post_event(body, kind, decision.reason, message)
            log.info("%s/%s: %s", namespace, name, message)
        _set(conditions, "LastRun", False, decision.reason, message, now)
    pause_reason = "PauseAnnotation" if paused else "NotPaused"
    _set(conditions, "Paused", paused, pause_reason, "", now)
    _set(conditions, "Valid", True, "ValidSpec", "", now)

    new_status: dict[str, Any] = {
        "active": [_ref(c) for c in active],
        "nextScheduleTime": _iso(next_run(sched, anchor, now)),
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
        new_status["lastScheduleTime"] = _iso(last)
    _custom().patch_namespaced_custom_object_status(
        GROUP, VERSION, namespace, PLURAL, name, {"status": new_status}
    )


# --- the scheduler and the kopf handlers ----------------------------------------------------

_scheduler: BackgroundScheduler | None = None
_scheduler_guard = threading.Lock()


def scheduler() -> BackgroundScheduler:
    global _scheduler
    with _scheduler_guard:
        if _scheduler is None:
            _scheduler = BackgroundScheduler(
                timezone=UTC,
                # A late wake-up still runs (the deadline logic decides); piled-up wake-ups
                # collapse into one, and one Schedule never runs twice at once.
                job_defaults={"coalesce": True, "max_instances": 1, "misfire_grace_time": None},
            )
            _scheduler.start()
        return _scheduler


def _wake(namespace: str, name: str, uid: str) -> None:
    try:
        sync(namespace, name, uid, fire=True)
    except Exception:  # the next wake-up retries; never let one error stop the job
        log.exception("schedule %s/%s: wake-up failed", namespace, name)


def forget(uid: str) -> None:
    sched = _scheduler
    if sched is not None and sched.get_job(uid) is not None:
        sched.remove_job(uid)


def track(body: kopf.Body, *, fire: bool) -> None:
    """(Re)arm the Schedule's job from its current spec and sync once now."""
    meta = body["metadata"]
    namespace, name, uid = meta["namespace"], meta["name"], meta["uid"]
    try:
        spec = ScheduleSpec.model_validate(dict(body.get("spec") or {}))
        anchor = parse_time(meta["creationTimestamp"]) or datetime.now(UTC)
        trigger = ScheduleTrigger(spec.schedule, anchor)
    except (ValidationError, cron.CronError) as e:
        forget(uid)
        text = f"spec.schedule: {e}" if isinstance(e, cron.CronError) else f"invalid spec: {e}"
        now = datetime.now(UTC)
        _custom().patch_namespaced_custom_object_status(
            GROUP,
            VERSION,
            namespace,
            PLURAL,
            name,
            {
                "status": {
                    "message": text[:32768],
                    "conditions": [_condition("Valid", False, "InvalidSpec", text[:32768], now)],
                }
            },
        )
        raise kopf.PermanentError(text) from e
    scheduler().add_job(
        _wake,
        trigger,
        args=(namespace, name, uid),
        id=uid,
        name=f"{namespace}/{name}",
        replace_existing=True,
    )
    sync(namespace, name, uid, fire=fire)


_resource = (GROUP, VERSION, PLURAL)


@kopf.on.create(*_resource, id="schedule-create")
@kopf.on.update(*_resource, id="schedule-update")
def on_change(body: kopf.Body, **_: Any) -> None:
    # An edit or a pause toggle re-arms the job; only wake-ups and resumes start runs.
    track(body, fire=False)


@kopf.on.resume(*_resource, id="schedule-resume")
def on_resume(body: kopf.Body, **_: Any) -> None:
    # After a restart the missed-run logic applies at once (start late, or skip and report).
    track(body, fire=True)


@kopf.on.delete(*_resource, id="schedule-delete", optional=True)
def on_delete(body: kopf.Body, **_: Any) -> None:
    # The children go with the Schedule through their ownerReference (garbage collector).
    forget(body["metadata"]["uid"])


@kopf.on.cleanup()
def stop_scheduler(**_: Any) -> None:
    global _scheduler
    with _scheduler_guard:
        if _scheduler is not None:
            _scheduler.shutdown(wait=False)
            _scheduler = None
