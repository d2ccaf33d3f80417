"""PodChaos pod-failure: make a pod's containers stop serving for a while, then put them back.

A container's image is one of the few pod fields that may change in place; when it changes the
kubelet restarts the container with the new image. So the fault swaps every container's image
for a pause image (which only sleeps) and the recovery swaps the originals back. The originals
are kept on the pod itself, in an annotation written by the same patch, so a restarted
controller, a paused object or a deleted one can always restore them. Nothing is pulled: the
pause image is one the node already has.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from backend.spec import GROUP

ORIGINAL_IMAGES = f"{GROUP}/pod-failure-images"
"""Pod annotation: JSON {container name: original image} while the pod is failed."""

GetPod = Callable[[str, str], dict[str, Any] | None]
PatchPod = Callable[[str, str, dict[str, Any]], None]


class PodGone(Exception):
    """The pod no longer exists; there is nothing to fail (or to restore)."""


def failure_patch(pod: dict[str, Any], pause_image: str) -> dict[str, Any] | None:
    """The patch that fails `pod`, or None when it is already failed (the annotation is there)."""
    annotations = pod["metadata"].get("annotations") or {}
    if ORIGINAL_IMAGES in annotations:
        return None
    originals = {c["name"]: c["image"] for c in pod["spec"]["containers"]}
    return {
        "metadata": {"annotations": {ORIGINAL_IMAGES: json.dumps(originals, sort_keys=True)}},
        "spec": {"containers": [{"name": n, "image": pause_image} for n in sorted(originals)]},
    }


def restore_patch(pod: dict[str, Any]) -> dict[str, Any] | None:
    """The patch that puts the original images back, or None when the pod is not failed."""
    raw = (pod["metadata"].get("annotations") or {}).get(ORIGINAL_IMAGES)
    if raw is None:
        return None
    originals: dict[str, str] = json.loads(raw)
    present = {c["name"] for c in pod["spec"]["containers"]}
    return {
        "metadata": {"annotations": {ORIGINAL_IMAGES: None}},
        "spec": {
            "containers": [
                {"name": n, "image": img} for n, img in sorted(originals.items()) if n in present
            ]
        },
    }


def fail_pod(get: GetPod, patch: PatchPod, namespace: str, name: str, pause_image: str) -> bool:
    """Fail the pod; True when this call changed it (False: it was already failed)."""
    pod = get(namespace, name)
    if pod is None:
        raise PodGone(f"{namespace}/{name}: pod is gone")
    body = failure_patch(pod, pause_image)
    if body is None:
        return False
    patch(namespace, name, body)
    return True


def restore_pod(get: GetPod, patch: PatchPod, namespace: str, name: str) -> bool:
    """Restore the pod's images; idempotent. True when this call changed it."""
    pod = get(namespace, name)
    if pod is None:
        return False  # a deleted pod needs no recovery; its controller makes a fresh one
    body = restore_patch(pod)
    if body is None:
        return False
    patch(namespace, name, body)
    return True


def still_failed(obj: Any, get: GetPod) -> list[str]:
    """Pods of a pod-failure chaos object (from its status records) whose images are still
    swapped; empty for every other kind of object."""
    if obj.kind != "PodChaos" or obj.spec.get("action") != "pod-failure":
        return []
    out = []
    for rec in (obj.status or {}).get("records") or []:
        namespace, name = rec["id"].split("/")[:2]
        pod = get(namespace, name)
        if pod is not None and ORIGINAL_IMAGES in (pod["metadata"].get("annotations") or {}):
            out.append(f"{namespace}/{name}")
    return out
