"""The child chaos objects an Experiment creates: one PodChaos/NetworkChaos/IOChaos per fault,
owned by the Experiment, so the operator's chaos controllers inject them as usual and deleting
the Experiment deletes them (and recovers their faults) - and what their status says about the
fault really being in force (verified injection)."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from backend.spec.creator import Creator, with_creator
from backend.spec.experiment import ExperimentSpec
from backend.spec.kinds import API_VERSION, GROUP, KINDS
from chaosd.duration import parse_duration

EXPERIMENT_LABEL = f"{GROUP}/experiment"


def child_name(experiment: str, fault: str) -> str:
    return f"{experiment}-{fault}"[:253]


def child_manifests(
    spec: ExperimentSpec, namespace: str, name: str, uid: str, creator: Creator | None = None
) -> list[dict[str, Any]]:
    """One manifest per fault. Each carries its own duration too - the experiment's
    faultDuration plus its injectionTimeout, as the fault window may start that late - so the
    fault ends even if the engine dies before it can delete it - and the Experiment's creator
    record, so the admission webhook judges the fault as the user who created the Experiment."""
    timing = spec.timing
    backstop = parse_duration(timing.faultDuration) + parse_duration(timing.injectionTimeout)
    out = []
    for fault in spec.faults:
        chaos = fault.chaos_spec().model_dump(mode="json", exclude_none=True, by_alias=True)
        if "duration" in KINDS[fault.type].spec.model_fields:
            chaos["duration"] = f"{math.ceil(backstop)}s"
        manifest = {
            "apiVersion": API_VERSION,
            "kind": fault.type,
            "metadata": {
                "name": child_name(name, fault.name),
                "namespace": namespace,
                "labels": {EXPERIMENT_LABEL: name[:63]},
                "ownerReferences": [
                    {
                        "apiVersion": API_VERSION,
                        "kind": "Experiment",
                        "name": name,
                        "uid": uid,
                        "controller": True,
                        "blockOwnerDeletion": False,
                    }
                ],
            },
            "spec": chaos,
        }
        out.append(with_creator(manifest, creator))
    return out


def plural_of(kind: str) -> str:
    return KINDS[kind].plural


@dataclass(frozen=True)
class Injection:
    """What a child chaos object's status says about its fault being in force."""

    verified: bool
    problem: str = ""
    """Why not (yet): no target matched, the node daemon's error, not reconciled yet."""


def injection_of(obj: dict[str, Any] | None) -> Injection:
    """Verified once at least one target has had the fault applied (the chaos controller
    records an Applied event only after chaosd verified it, or after a pod-kill went through);
    otherwise the most telling reason from the child's status."""
    if obj is None:
        return Injection(False, "the chaos object is gone")
    status = obj.get("status") or {}
    records = status.get("records") or []
    if any((r.get("injectedCount") or 0) > 0 for r in records):
        return Injection(True)
    errors = [f"{r.get('id')}: {r['lastError']}" for r in records if r.get("lastError")]
    unselected = any(
        c.get("type") == "Selected" and c.get("status") == "False"
        for c in status.get("conditions") or []
    )
    if status.get("message"):
        return Injection(False, str(status["message"]))
    if errors:
        return Injection(False, "; ".join(errors))
    if unselected:
        return Injection(False, "no target matched the selector")
    if not status:
        return Injection(False, "not reconciled by the operator yet")
    return Injection(False, "not injected yet")
