"""The Schedule controller: APScheduler wakes each Schedule at its cron times, and every wake-up
creates a child chaos object (PodChaos / NetworkChaos / IOChaos) from the embedded spec.

kopf only tracks the Schedule's lifecycle (create / resume / update / delete) and keeps one
APScheduler job per Schedule; this module holds those handlers. The rest is split by concern:
- schedule_firing: whether a due run starts (pure; which run is due: backend.domain.cron);
- schedule_children: the run's chaos object, its name, listing and pruning;
- schedule_history: `status.history`;
- schedule_jobs: the background scheduler and its cron trigger;
- schedule_wakeup: one wake-up, which reads the API and writes the status.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import kopf
from pydantic import ValidationError

from backend.domain import cron
from backend.operator.schedule_firing import parse_time
from backend.operator.schedule_jobs import ScheduleTrigger, forget, scheduler, shutdown
from backend.operator.schedule_wakeup import SCHEDULE, report_invalid, sync
from backend.spec import GROUP, VERSION
from backend.spec.emergency import EmergencyStop
from backend.spec.schedule import ScheduleSpec

log = logging.getLogger("faultline.operator.schedules")


def _wake(namespace: str, name: str, uid: str, stop: Callable[[], EmergencyStop]) -> None:
    try:
        sync(namespace, name, uid, fire=True, stop=stop)
    except Exception:  # the next wake-up retries; never let one error stop the job
        log.exception("schedule %s/%s: wake-up failed", namespace, name)


def _stop_of(memo: kopf.Memo) -> Callable[[], EmergencyStop]:
    """The emergency stop's state, read at each wake-up (handlers.configure puts it in memo)."""
    switch = memo.get("emergency_stop")
    return (lambda: switch.state) if switch is not None else EmergencyStop


def track(body: kopf.Body, memo: kopf.Memo, *, fire: bool) -> None:
    """(Re)arm the Schedule's job from its current spec and sync once now."""
    stop = _stop_of(memo)
    meta = body["metadata"]
    namespace, name, uid = meta["namespace"], meta["name"], meta["uid"]
    try:
        spec = ScheduleSpec.model_validate(dict(body.get("spec") or {}))
        anchor = parse_time(meta["creationTimestamp"]) or datetime.now(UTC)
        trigger = ScheduleTrigger(spec.schedule, anchor)
    except (ValidationError, cron.CronError) as e:
        forget(uid)
        text = f"spec.schedule: {e}" if isinstance(e, cron.CronError) else f"invalid spec: {e}"
        report_invalid(namespace, name, text)
        raise kopf.PermanentError(text) from e
    scheduler().add_job(
        _wake,
        trigger,
        args=(namespace, name, uid, stop),
        id=uid,
        name=f"{namespace}/{name}",
        replace_existing=True,
    )
    sync(namespace, name, uid, fire=fire, stop=stop)


_resource = (GROUP, VERSION, SCHEDULE.plural)


@kopf.on.create(*_resource, id="schedule-create")
@kopf.on.update(*_resource, id="schedule-update")
def on_change(body: kopf.Body, memo: kopf.Memo, **_: Any) -> None:
    # An edit or a pause toggle re-arms the job; only wake-ups and resumes start runs.
    track(body, memo, fire=False)


@kopf.on.resume(*_resource, id="schedule-resume")
def on_resume(body: kopf.Body, memo: kopf.Memo, **_: Any) -> None:
    # After a restart the missed-run logic applies at once (start late, or skip and report).
    track(body, memo, fire=True)


@kopf.on.delete(*_resource, id="schedule-delete", optional=True)
def on_delete(body: kopf.Body, **_: Any) -> None:
    # The children go with the Schedule through their ownerReference (garbage collector).
    forget(body["metadata"]["uid"])


@kopf.on.cleanup()
def stop_scheduler(**_: Any) -> None:
    shutdown()
