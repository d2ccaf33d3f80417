"""PodChaos pod-failure: make a pod's containers stop serving for a while, then put them back.

A container's image is one of the few pod fields that may change in place; when it changes the
kubelet restarts the container with the new image. So the fault swaps every container's image,
init containers included, for a pause image (which only sleeps) and the recovery swaps the
originals back. Init containers that already ran are not re-run by the kubelet, but if the pod's
sandbox is re-created during the fault they run again, and then they must not do real work
either; and a pod is only "restored exactly" when every image it had is back.

The originals are kept on the pod itself, in an annotation written by the same patch, so a
restarted controller, a paused object or a deleted one can always restore them. The annotation
is shared by every pod-failure object acting on the pod: it lists their uids (`owners`), and
the images come back only when the last owner lets go, as network faults on one pod compose.
Every patch carries the pod's resourceVersion, so two objects updating the list at once cannot
lose an owner: the loser gets a conflict, re-reads and tries again. Nothing is pulled: the
pause image is one the node already has.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from backend.spec import GROUP

ORIGINAL_IMAGES = f"{GROUP}/pod-failure-images"
"""Pod annotation: JSON {"containers": {name: image}, "initContainers": {...}, "owners": [uid]}
while the pod is failed. An older operator wrote a flat {name: image} (no owners)."""
CONFLICT_RETRIES = 5

GetPod = Callable[[str, str], dict[str, Any] | None]
PatchPod = Callable[[str, str, dict[str, Any]], None]


class PodGone(Exception):
    """The pod no longer exists; there is nothing to fail (or to restore)."""


@dataclass(frozen=True)
class Originals:
    containers: dict[str, str]
    init_containers: dict[str, str]
    owners: tuple[str, ...]
    """uids of the pod-failure objects holding the pod failed; empty when written by an older
    operator, which did not record them (any owner may then restore)."""

    def dump(self) -> str:
        return json.dumps(
            {
                "containers": self.containers,
                "initContainers": self.init_containers,
                "owners": list(self.owners),
            },
            sort_keys=True,
        )


def read_originals(pod: dict[str, Any]) -> Originals | None:
    raw = (pod["metadata"].get("annotations") or {}).get(ORIGINAL_IMAGES)
    if raw is None:
        return None
    data = json.loads(raw)
    if "containers" not in data or not isinstance(data["containers"], dict):
        return Originals(dict(data), {}, ())  # the older, flat form
    return Originals(
        dict(data["containers"]), dict(data.get("initContainers") or {}), tuple(data["owners"])
    )


def _images(pod: dict[str, Any], field: str) -> dict[str, str]:
    return {c["name"]: c["image"] for c in pod["spec"].get(field) or []}


def _meta(pod: dict[str, Any], annotation: str | None) -> dict[str, Any]:
    meta: dict[str, Any] = {"annotations": {ORIGINAL_IMAGES: annotation}}
    if pod["metadata"].get("resourceVersion"):  # a precondition: a conflict if the pod changed
        meta["resourceVersion"] = pod["metadata"]["resourceVersion"]
    return meta


def failure_patch(pod: dict[str, Any], pause_image: str, owner: str) -> dict[str, Any] | None:
    """The patch that fails `pod` for `owner`, or None when `owner` already holds it failed.
    A pod another object already failed only gains `owner` in the annotation."""
    held = read_originals(pod)
    if held is not None:
        if owner in held.owners:
            return None
        joined = Originals(held.containers, held.init_containers, (*held.owners, owner))
        return {"metadata": _meta(pod, joined.dump())}
    originals = Originals(_images(pod, "containers"), _images(pod, "initContainers"), (owner,))
    spec: dict[str, Any] = {
        "containers": [{"name": n, "image": pause_image} for n in sorted(originals.containers)]
    }
    if originals.init_containers:
        spec["initContainers"] = [
            {"name": n, "image": pause_image} for n in sorted(originals.init_containers)
        ]
    return {"metadata": _meta(pod, originals.dump()), "spec": spec}


def restore_patch(pod: dict[str, Any], owner: str | None) -> dict[str, Any] | None:
    """The patch that lets go of `pod` for `owner`: the original images when no other owner
    holds it, else just `owner` off the list; None when `owner` has nothing to undo.
    `owner=None` restores the pod whoever holds it (uninstall: every object is gone)."""
    held = read_originals(pod)
    if held is None:
        return None
    if owner is not None and held.owners and owner not in held.owners:
        return None
    rest = tuple(o for o in held.owners if owner is not None and o != owner)
    if rest:
        return {
            "metadata": _meta(pod, Originals(held.containers, held.init_containers, rest).dump())
        }
    spec: dict[str, Any] = {}
    for field, images in (
        ("containers", held.containers),
        ("initContainers", held.init_containers),
    ):
        present = _images(pod, field)
        back = [{"name": n, "image": img} for n, img in sorted(images.items()) if n in present]
        if back:
            spec[field] = back
    return {"metadata": _meta(pod, None), "spec": spec}


def holds(pod: dict[str, Any] | None, owner: str) -> bool:
    """Whether `owner` still holds the pod failed."""
    held = read_originals(pod) if pod is not None else None
    return held is not None and (not held.owners or owner in held.owners)


def _patch_until_settled(
    get: GetPod,
    patch: PatchPod,
    namespace: str,
    name: str,
    make: Callable[[dict[str, Any]], dict[str, Any] | None],
) -> dict[str, Any] | None:
    """Read, compute and patch; on a conflict (the pod changed meanwhile) start over. Returns
    the patch applied, or None when there was nothing to do."""
    for attempt in range(CONFLICT_RETRIES):
        pod = get(namespace, name)
        if pod is None:
            raise PodGone(f"{namespace}/{name}: pod is gone")
        body = make(pod)
        if body is None:
            return None
        try:
            patch(namespace, name, body)
            return body
        except Exception as e:
            if getattr(e, "status", None) != 409 or attempt == CONFLICT_RETRIES - 1:
                raise
    return None  # not reached: the last attempt returns or raises


def fail_pod(
    get: GetPod, patch: PatchPod, namespace: str, name: str, pause_image: str, owner: str
) -> bool:
    """Fail the pod for `owner`; True when this call changed the pod."""
    body = _patch_until_settled(
        get, patch, namespace, name, lambda pod: failure_patch(pod, pause_image, owner)
    )
    return body is not None


def restore_pod(get: GetPod, patch: PatchPod, namespace: str, name: str, owner: str | None) -> bool:
    """Let go of the pod for `owner`; idempotent. True when this call put the images back."""
    try:
        body = _patch_until_settled(
            get, patch, namespace, name, lambda pod: restore_patch(pod, owner)
        )
    except PodGone:
        return False  # a deleted pod needs no recovery; its controller makes a fresh one
    return body is not None and "spec" in body


def still_failed(obj: Any, get: GetPod) -> list[str]:
    """Pods a pod-failure chaos object (from its status records) still holds failed; empty for
    every other kind of object."""
    if obj.kind != "PodChaos" or obj.spec.get("action") != "pod-failure":
        return []
    out = []
    for rec in (obj.status or {}).get("records") or []:
        namespace, name = rec["id"].split("/")[:2]
        if holds(get(namespace, name), obj.uid):
            out.append(f"{namespace}/{name}")
    return out
