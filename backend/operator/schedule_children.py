"""A Schedule's children: the chaos object each run creates, how it is named and found, and
which finished ones `historyLimit` prunes.

A child's name is derived from its scheduled time (`<schedule>-<unix time>`), so a run that was
already created is never created twice. Children carry an ownerReference to the Schedule:
deleting it lets the garbage collector delete them, and their own delete handlers recover the
faults. The I/O functions take the custom-objects client as `api`, so the wake-up decides which
one is used.
"""

from __future__ import annotations

import contextlib
import hashlib
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from backend.clients import kube
from backend.clients.kube.objects import CustomObjects
from backend.operator.schedule_firing import iso
from backend.operator.schedule_history import SCHEDULED_AT_ANNOTATION
from backend.spec import GROUP, KINDS, VERSION
from backend.spec.creator import recorded_creator, with_creator
from backend.spec.schedule import EMBEDDED

SCHEDULE_LABEL = f"{GROUP}/schedule"


def label_value(name: str) -> str:
    """Label values stop at 63 characters; longer Schedule names keep a hash to stay unique."""
    if len(name) <= 63:
        return name
    return f"{name[:50].rstrip('-.')}-{hashlib.sha256(name.encode()).hexdigest()[:12]}"


def child_name(schedule: str, due: datetime) -> str:
    return f"{schedule[:242].rstrip('-.')}-{int(due.timestamp())}"


def child_manifest(schedule: dict[str, Any], due: datetime) -> dict[str, Any]:
    """The chaos object a run creates: the embedded spec, owned by and labelled with the
    Schedule, so `kubectl get <kind> -l chaos.faultline.dev/schedule=<name>` lists the history.
    It carries the Schedule's creator record, so the webhook judges it as that user."""
    meta, spec = schedule["metadata"], schedule["spec"]
    kind = spec["type"]
    child = {
        "apiVersion": f"{GROUP}/{VERSION}",
        "kind": kind,
        "metadata": {
            "name": child_name(meta["name"], due),
            "namespace": meta["namespace"],
            "labels": {SCHEDULE_LABEL: label_value(meta["name"])},
            "annotations": {SCHEDULED_AT_ANNOTATION: iso(due)},
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
    return with_creator(child, recorded_creator(schedule))


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


def list_children(
    namespace: str, name: str, uid: str, *, api: CustomObjects
) -> list[dict[str, Any]]:
    """This Schedule's chaos objects, of every kind (the type may have been edited)."""
    out: list[dict[str, Any]] = []
    for kind in EMBEDDED:
        found = api.items(
            KINDS[kind], namespace, label_selector=f"{SCHEDULE_LABEL}={label_value(name)}"
        )
        for item in found:
            owners = item["metadata"].get("ownerReferences") or []
            if any(o.get("uid") == uid for o in owners):  # not a same-named predecessor's
                out.append(item)
    return out


def delete_child(child: dict[str, Any], *, api: CustomObjects) -> None:
    meta = child["metadata"]
    api.delete(
        KINDS[child["kind"]], meta["namespace"], meta["name"], missing_ok=True, background=True
    )


def create_child(body: dict[str, Any], *, api: CustomObjects) -> None:
    """Create a run's chaos object; an existing one (same scheduled time) is that run."""
    with contextlib.suppress(kube.AlreadyExists):
        api.create(body)
