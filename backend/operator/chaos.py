"""Reconcile one PodChaos / NetworkChaos / IOChaos object: select targets, compute its faults,
push the per-target unions to chaosd, and derive the status (one record per target).

Called on create, on resume (controller start) and on every tick, so pods created during the
experiment are injected, leases are renewed and the status heals after a controller restart.
The kopf handlers around it are thin; everything it touches comes in through `World`.
"""

from __future__ import annotations

import logging
import socket
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from backend.domain import phase as phases
from backend.domain.limits import TargetLimits, selector_namespaces
from backend.domain.plan import PlanError, io_fault, network_faults
from backend.domain.reach import reach
from backend.domain.selection import SelectionError, reselect, rng_for, select
from backend.operator.desired import TargetKey
from backend.operator.inject import Injector
from backend.operator.podfailure import GetPod, PatchPod, fail_pod, restore_pod
from backend.operator.safety import opt_in_message, refused_namespaces
from backend.operator.targets import (
    HostNetworkRefused,
    NotReady,
    PodTarget,
    container_targets,
    pod_target,
)
from backend.spec import KINDS, ChaosStatus, IOChaosSpec, NetworkChaosSpec, PodChaosSpec, Record
from backend.spec.common import PodSelector
from backend.spec.emergency import CONDITION as EMERGENCY_CONDITION
from backend.spec.emergency import EmergencyStop, stopped_message
from backend.spec.kinds import HOST_NETWORK_ANNOTATION, PAUSE_ANNOTATION
from backend.spec.status import Condition, RecordEvent
from chaosd.duration import parse_duration

log = logging.getLogger("faultline.operator.chaos")
ONE_SHOT = {"pod-kill", "container-kill"}


@dataclass
class World:
    """The I/O a reconcile needs; the handlers pass real clients in."""

    list_pods: Callable[[list[str] | None], list[dict[str, Any]]]
    node_labels: Callable[[], dict[str, dict[str, str]]]
    delete_pod: Callable[[str, str, int], bool]
    kill_container: Callable[[str, str], None]
    """(node, containerID) -> SIGKILL the container's main process through chaosd."""
    injector: Injector
    get_pod: GetPod = lambda ns, name: None
    patch_pod: PatchPod = lambda ns, name, body: None
    namespace_annotations: Callable[[str], dict[str, str]] = lambda ns: {}
    emergency_stop: Callable[[], EmergencyStop] = EmergencyStop
    """The emergency stop (cluster-wide kill switch): while engaged, every fault off, none
    started, and every object it meets is ended with an EmergencyStop condition."""
    require_opt_in: bool = False
    limits: TargetLimits = field(default_factory=TargetLimits)
    """Protected namespaces and the allow list: nothing outside them is ever targeted."""
    pod_failure_image: str = "faultline.local/pause:3.10-catatonit"
    now: Callable[[], datetime] = lambda: datetime.now(UTC)


@dataclass(frozen=True)
class ChaosObject:
    kind: str
    namespace: str
    name: str
    uid: str
    spec: dict[str, Any]
    status: dict[str, Any]
    annotations: dict[str, str]


def _event(kind: str, message: str, now: datetime) -> RecordEvent:
    return RecordEvent(time=now, type=kind, message=message[:1024])


def _condition(ctype: str, ok: bool, reason: str, now: datetime, old: list[Condition]) -> Condition:
    """A condition whose lastTransitionTime moves only when its status does, so an unchanged
    object yields an unchanged status and nothing is written on a tick."""
    status = "True" if ok else "False"
    since = next(
        (c.lastTransitionTime for c in old if c.type == ctype and c.status == status), None
    )
    return Condition(type=ctype, status=status, reason=reason, lastTransitionTime=since or now)


def recover_all(obj: ChaosObject, world: World) -> list[str]:
    """Withdraw this object's faults from every target; return the errors (empty: all done)."""
    keys = world.injector.index.drop_owner(obj.uid)
    errors = [f"{r.key.target_id}: {r.error}" for r in world.injector.push_many(keys) if not r.ok]
    if obj.kind == "PodChaos" and obj.spec.get("action") == "pod-failure":
        # The failed pods are known from the status records, so this works after a restart too.
        for rec in (obj.status or {}).get("records") or []:
            namespace, name = rec["id"].split("/")[:2]
            try:
                restore_pod(world.get_pod, world.patch_pod, namespace, name, obj.uid)
            except Exception as e:  # reported on the record; retried on the next tick
                errors.append(f"{rec['id']}: {type(e).__name__}: {e}")
    return errors


def reconcile(obj: ChaosObject, world: World) -> dict[str, Any]:
    """Bring the object's targets in line with its spec; return the new status (as a dict)."""
    now = world.now()
    kind = KINDS[obj.kind]
    spec = kind.spec.model_validate(obj.spec)
    if not isinstance(spec, PodSelector):  # every chaos kind selects pods; other kinds never come
        raise TypeError(f"{obj.kind} is not a chaos kind")
    status = ChaosStatus.model_validate(obj.status or {})
    start = status.startTime or now
    records = {r.id: r for r in status.records}
    paused = obj.annotations.get(PAUSE_ANNOTATION) == "true"
    duration = getattr(spec, "duration", None)
    expired = phases.elapsed(start, parse_duration(duration) if duration else None, now)
    action = getattr(spec, "action", "")
    if action in ONE_SHOT and records and all(r.injectedCount for r in records.values()):
        expired = True
    selection_error = ""
    notice = ""
    # The emergency stop ends the object for good (like an elapsed duration): lifting the stop
    # must not bring back, all at once, every fault it removed. The condition carries that
    # across ticks and operator restarts, and also once the stop is lifted.
    stopped = stopped_message([c.model_dump() for c in status.conditions])
    if stopped is None and world.emergency_stop().engaged:
        what = "its faults were withdrawn and it" if records else "this new object is refused and"
        stopped = world.emergency_stop().refusal(f"{what} will not inject again")
    halted = stopped is not None
    if halted:
        notice = stopped or ""
        expired = True
    # Checked on every reconcile, not only at creation: limits tightened while an object runs
    # withdraw its faults too.
    outside = world.limits.refusals(reach(obj.kind, spec, obj.namespace))

    if paused or expired or halted or outside:
        if outside:
            selection_error = "refused: " + "; ".join(outside)
        errors = recover_all(obj, world)
        for rid, rec in records.items():
            # A Failed record counts too: a push that failed (say, racing the kill switch) may
            # have left something behind, and this recovery has just succeeded for it.
            if rec.phase in ("Injected", "Failed") and not errors:
                records[rid] = phases.add_event(rec, _event("Recovered", "fault removed", now))
            elif errors and rec.phase == "Injected":
                records[rid] = phases.add_event(rec, _event("Failed", "; ".join(errors), now))
    else:
        namespaces = selector_namespaces(spec.selector, obj.namespace)
        refused = (
            refused_namespaces(namespaces, world.namespace_annotations)
            if world.require_opt_in
            else []
        )
        if refused and len(refused) == len(namespaces):
            selection_error = opt_in_message(refused)
        else:
            notice = opt_in_message(refused) if refused else ""
            allowed = [ns for ns in namespaces if ns not in refused]
            try:
                records = _inject(obj, spec, allowed, records, world, now)
            except (SelectionError, PlanError) as e:
                selection_error = str(e)

    ordered = sorted(records.values(), key=lambda r: r.id)
    obs = phases.Observation(
        ordered, paused=paused or halted, expired=expired, selection_error=selection_error
    )
    new_phase = phases.next_phase(status.phase, obs)
    desired, injected = phases.counts(ordered)
    out = ChaosStatus(
        phase=new_phase,
        records=ordered,
        startTime=start,
        endTime=now if new_phase == "Finished" else status.endTime,
        desiredTargets=desired,
        injectedTargets=injected,
        message=selection_error
        or next((r.lastError for r in ordered if r.lastError), "")
        or notice,
        conditions=(
            [
                _condition(
                    "Selected",
                    bool(ordered),
                    "TargetsSelected" if ordered else "NoTargets",
                    now,
                    status.conditions,
                ),
                _condition(
                    "AllInjected",
                    bool(ordered) and injected == desired,
                    new_phase,
                    now,
                    status.conditions,
                ),
                _condition(
                    "WithinLimits",
                    not outside,
                    "OutsideLimits" if outside else "TargetsAllowed",
                    now,
                    status.conditions,
                ),
                _condition(
                    "Paused",
                    paused,
                    "PauseAnnotation" if paused else "NotPaused",
                    now,
                    status.conditions,
                ),
                *_stop_condition(stopped, bool(records), now, status.conditions),
            ]
        ),
    )
    return out.model_dump(mode="json", exclude_none=True)


def _stop_condition(
    stopped: str | None, had_targets: bool, now: datetime, old: list[Condition]
) -> list[Condition]:
    """EmergencyStop=True once the stop ended this object (absent otherwise): Stopped when it
    had targets, Refused when it was created while the stop was engaged."""
    if stopped is None:
        return []
    kept = next((c for c in old if c.type == EMERGENCY_CONDITION and c.status == "True"), None)
    if kept is not None:
        return [kept]
    reason = "Stopped" if had_targets else "Refused"
    cond = Condition(
        type=EMERGENCY_CONDITION, status="True", reason=reason, message=stopped,
        lastTransitionTime=now,
    )  # fmt: skip
    return [cond]


def _inject(
    obj: ChaosObject,
    spec: Any,
    namespaces: list[str],
    records: dict[str, Record],
    world: World,
    now: datetime,
) -> dict[str, Record]:
    sel = spec.selector
    labels = world.node_labels() if sel.nodeSelectors else None
    pods = world.list_pods(namespaces)
    current = sorted({rid.rsplit("/", 1)[0] if rid.count("/") == 2 else rid for rid in records})
    chosen = reselect(current, pods, spec, obj.namespace, rng_for(obj.uid), labels)
    by_id = {f"{p['metadata']['namespace']}/{p['metadata']['name']}": p for p in pods}

    if isinstance(spec, PodChaosSpec):
        return _pod_chaos(obj.uid, spec, chosen, by_id, records, world, now)

    targets: list[PodTarget] = []
    host_ok = obj.annotations.get(HOST_NETWORK_ANNOTATION) == "true"
    for pod in chosen:
        try:
            if isinstance(spec, NetworkChaosSpec):
                targets.append(pod_target(by_id[pod.id], allow_host_network=host_ok))
            else:
                targets.extend(container_targets(by_id[pod.id], list(spec.containerNames)))
        except NotReady as e:
            rec = records.get(pod.id, Record(id=pod.id, node=pod.node))
            records[pod.id] = rec.model_copy(update={"lastError": str(e)})
        except HostNetworkRefused as e:
            rec = records.get(pod.id, Record(id=pod.id, node=pod.node))
            if rec.lastError != str(e):  # told once, not on every tick
                records[pod.id] = phases.add_event(rec, _event("Failed", str(e), now))

    faults = _faults(obj, spec, world)
    index = world.injector.index
    wanted: set[TargetKey] = set()
    for t in targets:
        index.set(obj.uid, t.key, t.info, faults)
        wanted.add(t.key)
    left = [key for key in index.targets_of(obj.uid) if key not in wanted]
    for key in left:  # the pod left the selection (deleted, relabelled)
        index.remove(obj.uid, key)
    # Every target at once: the new ones are what the user is waiting for.
    results = world.injector.push_many([*(t.key for t in targets), *left])
    live = {t.info.owner_ref for t in targets}
    for rid in list(records):
        if rid not in live and records[rid].phase != "Injected":
            continue
        if rid not in live:
            records[rid] = phases.add_event(records[rid], _event("Recovered", "target left", now))
    for t, result in zip(targets, results, strict=False):
        rid = t.info.owner_ref
        rec = records.get(rid, Record(id=rid, node=t.key.node))
        if result.ok and rec.phase != "Injected":
            msg = f"applied via {result.mechanism}" if result.mechanism else "applied"
            rec = phases.add_event(rec, _event("Applied", msg, now))
        elif not result.ok and rec.lastError != result.error:
            rec = phases.add_event(rec, _event("Failed", result.error, now))
        records[rid] = rec
    return records


def _faults(obj: ChaosObject, spec: Any, world: World) -> list[Any]:
    if isinstance(spec, IOChaosSpec):
        return [io_fault(spec)]
    assert isinstance(spec, NetworkChaosSpec)
    target_ips: list[str] = []
    if spec.target is not None:
        labels = world.node_labels() if spec.target.selector.nodeSelectors else None
        tns = selector_namespaces(spec.target.selector, obj.namespace)
        picked = select(
            world.list_pods(tns), spec.target, obj.namespace, rng_for(obj.uid + "/t"), labels
        )
        target_ips = [p.ip for p in picked if p.ip]
    resolved = {h: _resolve(h) for h in spec.externalTargets}
    return list(network_faults(spec, target_ips, resolved))


def _resolve(host: str) -> list[str]:
    try:
        return sorted({str(a[4][0]) for a in socket.getaddrinfo(host, None)})
    except OSError:
        return []


def _pod_chaos(
    uid: str,
    spec: PodChaosSpec,
    chosen: list[Any],
    by_id: dict[str, dict[str, Any]],
    records: dict[str, Record],
    world: World,
    now: datetime,
) -> dict[str, Record]:
    if spec.action in ONE_SHOT and records:
        chosen = [
            p for p in chosen if p.id in records
        ]  # one-shot: never widen after the first pick
    image = world.pod_failure_image
    for pod in chosen:
        rec = records.get(pod.id, Record(id=pod.id, node=pod.node))
        if rec.injectedCount if spec.action in ONE_SHOT else rec.phase == "Injected":
            continue
        try:
            if spec.action == "pod-kill":
                world.delete_pod(pod.namespace, pod.name, spec.gracePeriod)
                rec = phases.add_event(rec, _event("Applied", "pod deleted", now))
            elif spec.action == "container-kill":
                for t in container_targets(by_id[pod.id], list(spec.containerNames)):
                    world.kill_container(t.key.node, t.info.container_id)
                rec = phases.add_event(rec, _event("Applied", "containers killed", now))
            else:
                fail_pod(world.get_pod, world.patch_pod, pod.namespace, pod.name, image, uid)
                msg = f"containers now run {image} until the duration ends"
                rec = phases.add_event(rec, _event("Applied", msg, now))
        except Exception as e:  # recorded on the target and retried on the next tick
            rec = phases.add_event(rec, _event("Failed", f"{type(e).__name__}: {e}", now))
        records[pod.id] = rec
    return records
